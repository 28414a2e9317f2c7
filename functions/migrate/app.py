"""Applies the SQL migrations shipped beside this file (migrations/), each once. CI invokes it, never API
Gateway, before a deploy moves the API to new code (docs/deploy.md): `{}` applies what is pending,
`{"action": "rollback", "migration": "<id>"}` rolls one back (docs/migrations.md)."""

from pathlib import Path

from sync_core.adapters.assembly import migrations_handler

handler = migrations_handler(Path(__file__).resolve().parent / "migrations")
