"""Only a live Better Auth session of a user who is not banned gets in; everything else is a JSON 401."""

import uuid
from urllib.parse import quote

import pytest

from sync_core.domain.session import sign_token
from tests.conftest import TEST_SECRET
from tests.support.lambda_events import http_api_event, invoke


def call_list(handlers, *, cookies=None, headers=None):
    return invoke(handlers["list_projects"], http_api_event("GET", "/api/projects", cookies=cookies, headers=headers))


def assert_unauthenticated(response):
    assert response.status == 401, response
    assert response.json()["error"]["code"] == "unauthenticated"


def test_the_signed_cookie_is_accepted(handlers, new_user):
    assert call_list(handlers, cookies=[new_user().cookie]).status == 200


def test_the_secure_cookie_name_is_accepted(handlers, new_user):
    user = new_user()
    cookie = f"__Secure-better-auth.session_token={quote(user.signed_token, safe='')}"
    assert call_list(handlers, cookies=[cookie]).status == 200


def test_the_signed_bearer_token_is_accepted_and_the_raw_one_refused(handlers, new_user):
    user = new_user()
    assert call_list(handlers, headers={"Authorization": f"Bearer {user.signed_token}"}).status == 200
    assert_unauthenticated(call_list(handlers, headers={"Authorization": f"Bearer {user.token}"}))


def test_a_stage_may_allow_raw_bearer_tokens(database_url, new_user):
    from sync_core.adapters.assembly import api_app
    from sync_core.adapters.http.api_gateway import HttpApiHandler
    from sync_core.adapters.http.routes import list_projects_router
    from sync_core.adapters.settings import ApiSettings

    settings = ApiSettings(
        database_url=database_url, better_auth_secret=TEST_SECRET, better_auth_allow_unsigned_bearer=True
    )
    handler = HttpApiHandler(api_app(list_projects_router, settings=settings))
    user = new_user()
    event = http_api_event("GET", "/api/projects", headers={"Authorization": f"Bearer {user.token}"})
    assert invoke(handler, event).status == 200


def test_the_bearer_token_wins_over_the_cookie(handlers, new_user):
    owner, other = new_user(), new_user()
    response = call_list(handlers, cookies=[other.cookie], headers={"Authorization": f"Bearer {owner.signed_token}"})
    assert response.status == 200
    # and a refused bearer does not fall back to the cookie
    assert_unauthenticated(
        call_list(handlers, cookies=[other.cookie], headers={"Authorization": f"Bearer {owner.token}"})
    )


def test_no_credentials_is_401_on_every_route(api):
    project_id = uuid.uuid4()
    for response in (
        api.list(None),
        api.get(None, project_id),
        api.put(None, project_id, {"name": "x", "data": {}, "baseRevision": 0}),
        api.delete(None, project_id),
    ):
        assert_unauthenticated(response)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda user: f"{user.token}.{sign_token(b'another secret', user.token).rpartition('.')[2]}",
        lambda user: user.signed_token[:-4] + "AAA=",
        lambda user: user.token,
        lambda user: "x" + user.signed_token,
        lambda user: "." + user.signed_token.rpartition(".")[2],
    ],
)
def test_a_cookie_without_a_valid_signature_is_refused(handlers, new_user, tamper):
    cookie = f"better-auth.session_token={quote(tamper(new_user()), safe='')}"
    assert_unauthenticated(call_list(handlers, cookies=[cookie]))


def test_a_bearer_with_a_bad_signature_is_refused(handlers, new_user):
    user = new_user()
    assert_unauthenticated(call_list(handlers, headers={"Authorization": f"Bearer {user.token}.AAAA"}))


def test_an_expired_session_is_refused(handlers, new_user):
    assert_unauthenticated(call_list(handlers, cookies=[new_user(expires_in="-1 second").cookie]))


def test_an_unknown_token_signed_with_our_secret_is_refused(handlers):
    signed = sign_token(TEST_SECRET.encode(), "no-such-session")
    assert_unauthenticated(call_list(handlers, cookies=[f"better-auth.session_token={quote(signed, safe='')}"]))


def test_a_deleted_session_is_refused(handlers, new_user, database_url):
    import psycopg

    user = new_user()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute('DELETE FROM "session" WHERE token = %s', (user.token,))
    assert_unauthenticated(call_list(handlers, cookies=[user.cookie]))


def test_a_banned_user_is_refused_until_the_ban_expires(handlers, new_user, database_url):
    import psycopg

    user = new_user(banned=True)
    assert_unauthenticated(call_list(handlers, cookies=[user.cookie]))
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("""UPDATE "user" SET "banExpires" = now() - interval '1 minute' WHERE id = %s""", (user.id,))
    assert call_list(handlers, cookies=[user.cookie]).status == 200
    assert call_list(handlers, cookies=[new_user(banned=False).cookie]).status == 200


def test_a_bad_signature_never_reaches_the_database(lambda_environment, new_user):
    """The signature is checked first: a forged cookie costs no round trip."""
    from sync_core.adapters.assembly import api_app
    from sync_core.adapters.http.api_gateway import HttpApiHandler
    from sync_core.adapters.http.routes import list_projects_router
    from tests.support.round_trips import counting_database

    database, round_trips = counting_database()
    app_handler = HttpApiHandler(api_app(list_projects_router, database=database))
    user = new_user()
    forged = f"better-auth.session_token={quote(user.token + '.AAAA', safe='')}"
    assert_unauthenticated(invoke(app_handler, http_api_event("GET", "/api/projects", cookies=[forged])))
    assert round_trips() == 0


def test_a_token_with_control_characters_is_refused_not_a_500(handlers):
    for authorization in ("Bearer abc%00def", "Bearer abc%0Adef"):
        assert_unauthenticated(call_list(handlers, headers={"Authorization": authorization}))


def test_a_session_revoked_after_it_was_used_is_refused_by_the_same_warm_function(handlers, new_user, database_url):
    """A warm function keeps only the signature check; the session's life is asked of Postgres every time."""
    import psycopg

    deleted, expired = new_user(), new_user()
    for user in (deleted, expired):
        assert call_list(handlers, cookies=[user.cookie]).status == 200
        assert call_list(handlers, headers={"Authorization": f"Bearer {user.signed_token}"}).status == 200
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute('DELETE FROM "session" WHERE token = %s', (deleted.token,))
        connection.execute(
            """UPDATE "session" SET "expiresAt" = now() - interval '1 second' WHERE token = %s""", (expired.token,)
        )
    for user in (deleted, expired):
        assert_unauthenticated(call_list(handlers, cookies=[user.cookie]))
        assert_unauthenticated(call_list(handlers, headers={"Authorization": f"Bearer {user.signed_token}"}))


def test_two_users_alternating_on_a_warm_function_each_see_only_their_own(handlers, new_user):
    users = [new_user(), new_user()]
    for user in users:
        body = f'{{"name": "of {user.id}", "data": {{}}, "baseRevision": 0}}'
        event = http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[user.cookie], body=body)
        assert invoke(handlers["put_project"], event).status == 200
    for _ in range(3):
        for user in users:
            (project,) = call_list(handlers, cookies=[user.cookie]).json()
            assert project["name"] == f"of {user.id}"
