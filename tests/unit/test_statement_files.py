"""Each statement of the projects store reads whole in its file in layers/sync_core/statements/."""

import pytest

from sync_core.adapters.projects_sql import STATEMENTS
from tools.render_statements import STATEMENTS_DIR, rendered

# RDS Proxy pins a client connection to one backend for any statement text over 16 KB.
RDS_PROXY_PINNING_BYTES = 16 * 1024


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_the_file_shows_the_statement_as_sent(name):
    shown = (STATEMENTS_DIR / f"{name}.sql").read_text()
    assert shown == rendered(name), f"run `make statements`: {name}.sql differs from the statement sent"


def test_every_file_is_a_statement_sent():
    assert sorted(path.stem for path in STATEMENTS_DIR.glob("*.sql")) == sorted(STATEMENTS)


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_no_statement_makes_rds_proxy_pin_the_connection(name):
    assert len(STATEMENTS[name].encode()) < RDS_PROXY_PINNING_BYTES
