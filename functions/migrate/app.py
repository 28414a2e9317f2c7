"""Applies the SQL migrations shipped beside this file (migrations/), each once. CI invokes it after
every deploy, never API Gateway: `{}` applies what is pending, `{"action": "rollback", "migration": "<id>"}`
rolls one back (docs/migrations.md)."""

from pathlib import Path

from sync_core.adapters.assembly import migrations_handler

handler = migrations_handler(Path(__file__).resolve().parent / "migrations")
