"""`make statements`: write each SQL statement of the projects store, as it is sent, to
layers/sync_core/statements/<name>.sql, where a reviewer reads it whole and can paste it into EXPLAIN.

tests/unit/test_statement_files.py fails when a file and the statement it shows differ.
"""

from pathlib import Path

from sync_core.adapters.projects_sql import STATEMENTS

STATEMENTS_DIR = Path(__file__).resolve().parents[1] / "layers" / "sync_core" / "statements"


def header(name: str) -> str:
    return (
        f"-- The {name} statement exactly as the projects store sends it (one round trip): rendered from\n"
        "-- layers/sync_core/sync_core/adapters/projects_sql.py by `make statements`; edit it there.\n"
        "-- Parameters are psycopg's named ones, %(name)s.\n\n"
    )


def rendered(name: str) -> str:
    return header(name) + STATEMENTS[name].strip("\n") + "\n"


def main() -> None:
    for stale in STATEMENTS_DIR.glob("*.sql"):
        stale.unlink()
    for name in STATEMENTS:
        (STATEMENTS_DIR / f"{name}.sql").write_text(rendered(name))


if __name__ == "__main__":
    main()
