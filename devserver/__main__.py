"""`python -m devserver`: embedded Postgres (unless DATABASE_URL), migrations, every route on one port."""

import os
import signal

import uvicorn

from devserver.app import build_local_app
from devserver.connections import JsonErrorsH11Protocol
from devserver.database import prepare_schema, use_local_database
from devserver.dev_auth import LOCAL_ONLY_SECRET
from devserver.local_sqs import start_consumer_poller, start_local_sqs
from sync_core.adapters.assembly import limit_consumer
from sync_core.adapters.settings import LocalServerSettings, load_settings


def main() -> None:
    os.environ.setdefault("BETTER_AUTH_SECRET", LOCAL_ONLY_SECRET)
    use_local_database()
    if not os.environ.get("RATE_LIMIT_EVENTS_QUEUE_URL"):
        os.environ["RATE_LIMIT_EVENTS_QUEUE_URL"] = start_local_sqs()
    settings = load_settings(LocalServerSettings)
    prepare_schema(settings.database_url)
    start_consumer_poller(settings.rate_limit_events_queue_url, limit_consumer(settings))
    app = build_local_app(settings)
    print(_banner(settings), flush=True)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turned into SystemExit, it lets the
    # atexit hook of the embedded Postgres stop the server instead of leaving it running.
    signal.signal(signal.SIGTERM, _exit_quietly)
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning", http=JsonErrorsH11Protocol)


def _exit_quietly(signal_number: int, frame: object) -> None:
    raise SystemExit(0)


def _banner(settings: LocalServerSettings) -> str:
    base = f"http://127.0.0.1:{settings.port}"
    return f"""
appframes-sync local server: {base}  (demo editor at {base}/, API docs at {base}/docs)
Get a session (creates a Better Auth user + session row and sets the signed cookie):
  curl -c cookies.txt -H 'Content-Type: application/json' -d '{{"email":"ada@example.com"}}' {base}/api/dev/sign-in
  curl -b cookies.txt {base}/api/projects
The sign-in answer also holds "token", signed as Better Auth's set-auth-token gives it: use it as \
'Authorization: Bearer <token>'.
Rate limits: {settings.rate_limit_write_burst} writes at once, then {settings.rate_limit_write_per_minute:g}/min; \
{settings.rate_limit_throttles_to_block} throttles in {settings.rate_limit_strike_window_seconds}s block writes \
for {settings.rate_limit_block_seconds}s.
CORS: {", ".join(settings.cors_origins) or "none (CORS_ALLOW_ORIGINS)"}; the demo from another origin takes \
?api={base}&auth=bearer.
Limit events go to a local SQS ({settings.rate_limit_events_queue_url}) and its consumer. To watch a block happen:
  RATE_LIMIT_WRITE_BURST=3 RATE_LIMIT_THROTTLES_TO_BLOCK=3 RATE_LIMIT_BLOCK_SECONDS=60 make dev
"""


if __name__ == "__main__":
    main()
