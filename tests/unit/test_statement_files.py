"""Each statement of the projects store reads whole in its file in layers/sync_core/statements/."""

import re
from pathlib import Path

import pytest

from sync_core.adapters.projects_sql import PUT_PROJECT_FUNCTION, PUT_PROJECT_QUERY, STATEMENTS
from tools.render_statements import STATEMENTS_DIR, rendered

# RDS Proxy pins a client connection to one backend for any statement text over 16 KB.
RDS_PROXY_PINNING_BYTES = 16 * 1024
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_the_file_shows_the_statement_as_sent(name):
    shown = (STATEMENTS_DIR / f"{name}.sql").read_text()
    assert shown == rendered(name), f"run `make statements`: {name}.sql differs from the statement sent"


def test_every_file_is_a_statement_sent():
    assert sorted(path.stem for path in STATEMENTS_DIR.glob("*.sql")) == sorted(STATEMENTS)


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_no_statement_makes_rds_proxy_pin_the_connection(name):
    assert len(STATEMENTS[name].encode()) < RDS_PROXY_PINNING_BYTES


def test_put_projects_function_runs_the_query_of_projects_sql():
    """The store calls public.put_project_v1 (layers/sync_core/statements/put_project.sql), whose body
    its migration shows: PUT_PROJECT_QUERY, each parameter the function's."""
    migration = MIGRATIONS_DIR / "20261207_30_create-put-project-function.sql"
    body = migration.read_text().split("RETURN QUERY\n", 1)[1].split(";\nEND\n", 1)[0]
    as_function = re.sub(r"%\((\w+)\)s", rf"{PUT_PROJECT_FUNCTION}.\1", PUT_PROJECT_QUERY.strip("\n"))
    assert body == as_function, "PUT's query changed: it needs a new function in a new migration"
