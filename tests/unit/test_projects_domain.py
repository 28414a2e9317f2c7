"""ETags, base revisions and size limits: the request rules that need no database."""

import pytest

from sync_core.domain import projects
from sync_core.domain.errors import InvalidRequest, PayloadTooLarge


def test_entity_tags_are_quoted_revisions():
    assert projects.entity_tag(12) == '"12"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, projects.CachedRevisions()),
        ("*", projects.CachedRevisions(any_revision=True)),
        ('"3"', projects.CachedRevisions(revisions=frozenset({3}))),
        ('W/"3", "4"', projects.CachedRevisions(revisions=frozenset({3, 4}))),
    ],
)
def test_if_none_match(header, expected):
    assert projects.cached_revisions(header) == expected


@pytest.mark.parametrize("header", ["3", '"x"', '"1" "2"', '"99999999999999999999"', "", '"\u0663"', '"\uff13"'])
def test_if_none_match_that_is_not_ours(header):
    with pytest.raises(InvalidRequest):
        projects.cached_revisions(header)


# The body's baseRevision is read by Postgres (tests/integration/test_errors.py has every body case).
@pytest.mark.parametrize(("if_match", "expected"), [(None, None), ("*", None), (" * ", None), ('"4"', 4), ('W/"4"', 4)])
def test_if_match(if_match, expected):
    assert projects.if_match_revision(if_match) == expected


@pytest.mark.parametrize("if_match", ["4", '"x"', '"99999999999999999999"', '"\u0664"', ""])
def test_if_match_that_is_not_ours(if_match):
    with pytest.raises(InvalidRequest):
        projects.if_match_revision(if_match)


CANONICAL_ID = "0b7d1e7a-6a4f-4c1e-9a51-3c3d2f1e0a01"


def test_a_project_id_in_its_canonical_spelling_is_accepted():
    assert str(projects.parse_project_id(CANONICAL_ID)) == CANONICAL_ID


@pytest.mark.parametrize(
    "spelling",
    [
        "0b7d1e7a",
        CANONICAL_ID.upper(),
        "{" + CANONICAL_ID + "}",
        "urn:uuid:" + CANONICAL_ID,
        CANONICAL_ID.replace("-", ""),
        "0b7d-1e7a-6a4f-4c1e-9a51-3c3d-2f1e-0a01",
        CANONICAL_ID + "\n",
        CANONICAL_ID.replace("0", "\u0660"),  # Arabic-Indic digit zero
        CANONICAL_ID.replace("1", "\uff11"),  # full-width digit one
    ],
)
def test_every_other_spelling_of_a_project_id_is_refused_naming_the_canonical_one(spelling):
    # One resource, one URL: caches, WAF rules and logs keyed on the path never see two spellings.
    with pytest.raises(InvalidRequest, match="lower-case"):
        projects.parse_project_id(spelling)


def test_body_size_limit_names_the_limit():
    projects.check_body_size(10, 10)
    with pytest.raises(PayloadTooLarge, match="limit is 10 bytes"):
        projects.check_body_size(11, 10)


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("42", 42), (str(2**63 - 1), 2**63 - 1)])
def test_a_revision_in_a_path(raw, expected):
    assert projects.parse_revision(raw) == expected


@pytest.mark.parametrize("raw", ["0", "01", "-1", "+1", "1.0", "1e2", " 1", "x", "\u0661", str(2**63), "9" * 40])
def test_a_revision_in_a_path_in_any_other_spelling_is_refused(raw):
    with pytest.raises(InvalidRequest, match="not a revision number"):
        projects.parse_revision(raw)
