"""Which session token a request carries, and whether our secret signed it (no database involved)."""

import base64
import hashlib
import hmac
from urllib.parse import quote

import pytest

from sync_core.domain.errors import Unauthenticated
from sync_core.domain.session import SessionPolicy, session_token, sign_token

SECRET = b"unit-secret"
POLICY = SessionPolicy(secret=SECRET)


def better_auth_signature(token: str) -> str:
    """Better Auth's own recipe, written out independently: base64(HMAC-SHA256(secret, token))."""
    return base64.b64encode(hmac.new(SECRET, token.encode(), hashlib.sha256).digest()).decode()


def test_signing_matches_better_auths_recipe():
    assert sign_token(SECRET, "abc") == f"abc.{better_auth_signature('abc')}"


def test_the_percent_encoded_cookie_yields_the_raw_token():
    cookie = f"theme=dark; better-auth.session_token={quote(sign_token(SECRET, 'tok'), safe='')}; other=1"
    assert session_token(POLICY, authorization=None, cookie_header=cookie) == "tok"


def test_the_secure_cookie_and_a_custom_prefix():
    policy = SessionPolicy(secret=SECRET, cookie_prefix="appframes")
    cookie = f"__Secure-appframes.session_token={quote(sign_token(SECRET, 'tok'), safe='')}"
    assert session_token(policy, authorization=None, cookie_header=cookie) == "tok"
    with pytest.raises(Unauthenticated):
        session_token(policy, authorization=None, cookie_header=cookie.replace("appframes", "better-auth"))


def test_bearer_wins_over_cookie():
    cookie = f"better-auth.session_token={quote(sign_token(SECRET, 'from-cookie'), safe='')}"
    bearer = f"Bearer {sign_token(SECRET, 'from-bearer')}"
    assert session_token(POLICY, authorization=bearer, cookie_header=cookie) == "from-bearer"


def test_a_raw_bearer_token_is_refused_unless_explicitly_allowed():
    # Unsigned, any string would be worth a session lookup in Postgres; Better Auth's set-auth-token
    # header gives clients the signed value.
    with pytest.raises(Unauthenticated, match="not signed"):
        session_token(POLICY, authorization="Bearer raw", cookie_header=None)
    lenient = SessionPolicy(secret=SECRET, allow_unsigned_bearer=True)
    assert session_token(lenient, authorization="Bearer raw", cookie_header=None) == "raw"
    with pytest.raises(Unauthenticated, match="signature"):
        session_token(lenient, authorization="Bearer raw.AAAA", cookie_header=None)


@pytest.mark.parametrize(
    "cookie_value",
    [
        "tok",  # unsigned
        "tok.",  # empty signature
        f"tok.{better_auth_signature('other')}",  # another token's signature
        f".{better_auth_signature('')}",  # empty token
        f"tok.{better_auth_signature('tok')[:-2]}",  # truncated
    ],
)
def test_bad_cookie_signatures_are_refused(cookie_value):
    with pytest.raises(Unauthenticated):
        session_token(POLICY, authorization=None, cookie_header=f"better-auth.session_token={quote(cookie_value)}")


@pytest.mark.parametrize("authorization", [None, "", "Basic abc", "Bearer ", "Bearer"])
def test_no_usable_credentials(authorization):
    with pytest.raises(Unauthenticated, match="sign in"):
        session_token(POLICY, authorization=authorization, cookie_header="unrelated=1")


def test_a_token_containing_dots_is_split_at_the_last_one():
    assert session_token(POLICY, authorization=f"Bearer {sign_token(SECRET, 'a.b.c')}", cookie_header=None) == "a.b.c"


PLAIN = "better-auth.session_token"
SECURE = "__Secure-better-auth.session_token"


def signed_cookie(name: str, token: str) -> str:
    return f"{name}={quote(sign_token(SECRET, token), safe='')}"


@pytest.mark.parametrize("plain_first", [True, False])
def test_the_secure_cookie_wins_over_a_plain_one_whatever_the_order(plain_first):
    # A plain-HTTP page or a sibling subdomain can plant the plain name; Better Auth on https reads the
    # __Secure- one, so the API must act as the same user the editor shows.
    cookies = [signed_cookie(PLAIN, "planted"), signed_cookie(SECURE, "mine")]
    header = "; ".join(cookies if plain_first else reversed(cookies))
    assert session_token(POLICY, authorization=None, cookie_header=header) == "mine"


def test_a_junk_plain_cookie_does_not_lock_out_the_secure_session():
    header = f"{PLAIN}=junk; {signed_cookie(SECURE, 'mine')}"
    assert session_token(POLICY, authorization=None, cookie_header=header) == "mine"


def test_a_plain_cookie_never_stands_in_for_a_refused_secure_one():
    with pytest.raises(Unauthenticated):
        session_token(POLICY, authorization=None, cookie_header=f"{SECURE}=junk; {signed_cookie(PLAIN, 'planted')}")


@pytest.mark.parametrize("name", [PLAIN, SECURE])
def test_a_repeated_cookie_name_uses_the_first_copy_with_a_valid_signature(name):
    header = f"{name}=junk; {name}={quote('tok.' + better_auth_signature('other'))}; {signed_cookie(name, 'mine')}"
    assert session_token(POLICY, authorization=None, cookie_header=header) == "mine"
    both_valid = f"{signed_cookie(name, 'first')}; {signed_cookie(name, 'second')}"
    assert session_token(POLICY, authorization=None, cookie_header=both_valid) == "first", "as Better Auth reads it"
