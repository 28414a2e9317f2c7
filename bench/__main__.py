"""`make bench`: the request paths of the API, timed through the real Lambda handlers, each next to
raw psycopg running the very same SQL on the same Postgres, and next to a bare handler (FastAPI +
Mangum answering a ready-made body, no database) that shows what the framework alone costs.

Medians of repeated warm invocations on the embedded Postgres (or BENCH_DATABASE_URL).
"""

import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from fastapi import APIRouter
from fastapi.responses import Response
from mangum import Mangum
from psycopg.conninfo import make_conninfo

from devserver.database import BETTER_AUTH_TABLES, MIGRATIONS, prepare_schema, start_embedded_postgres
from devserver.dev_auth import LOCAL_ONLY_SECRET
from devserver.functions import load_function
from sync_core.adapters import projects_sql
from sync_core.adapters.assembly import api_app, rate_limits_from
from sync_core.adapters.migrations import run_migrations
from sync_core.adapters.postgres import load_json_as_bytes
from sync_core.adapters.settings import ApiSettings, load_settings
from sync_core.domain.changes import FEED_START, PAGE_BYTES
from sync_core.domain.limits import Scope
from tests.support.accounts import create_signed_in_user
from tests.support.lambda_events import http_api_event

SIZES = {"1 KiB": 1024, "100 KiB": 100 * 1024, "1 MiB": 1024 * 1024, "4 MiB": 4 * 1024 * 1024 - 512}
ROUNDS = {"1 KiB": 300, "100 KiB": 100, "1 MiB": 30, "4 MiB": 12}
LISTED_PROJECTS = 1000
FEED_PAGE_PROJECTS = 100
FEED_PROJECT_BYTES = 10 * 1024

# The floor of a changes page: the same rows' data (their current revisions') as text, nothing around it.
FEED_FLOOR = """
SELECT kept.data::text
FROM public.projects AS project
JOIN public.project_revisions AS kept
    ON kept."userId" = project."userId" AND kept.id = project.id AND kept.revision = project.revision
WHERE project."userId" = %(user_id)s AND project."changeXid" < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY project."changeXid", project.id
LIMIT %(limit)s
"""

# A first sign-in's claim: batches of 100 typical projects.
BATCH_CHANGES, BATCH_PROJECT_BYTES, BATCH_ROUNDS = 100, 10 * 1024, 20

# Project history (issue 14): PUT with history (this schema) against PUT without it (the statement and
# schema from before the history migration, on a database of their own), and a 200-revision listing.
HISTORY_SIZES = {"1 KiB": 1024, "1 MiB": 1024 * 1024, "4 MiB": 4 * 1024 * 1024 - 512}
HISTORY_ROUNDS = {"1 KiB": 300, "1 MiB": 30, "4 MiB": 12}
HISTORY_EXPAND = "20261203_01_create-project-revisions"
PUT_WITHOUT_HISTORY = (Path(__file__).resolve().parent / "put_project_without_history.sql").read_text()
LISTED_REVISIONS = 200


def project_data(size: int) -> str:
    """A project payload of about `size` bytes, shaped like an editor's: frames holding layers."""
    layer = {"type": "text", "x": 120.5, "y": 64, "text": "Launch day", "style": {"font": "Inter", "size": 48}}
    layer_text = json.dumps(layer)
    layers = ", ".join([layer_text] * max(1, (size - 64) // (len(layer_text) + 2)))
    return f'{{"frames": [{{"id": "f1", "width": 1080, "layers": [{layers}]}}]}}'


def varied_project_data(size: int, seed: int) -> str:
    """A payload of about `size` bytes whose layers all differ (positions, text), so TOAST's compression
    does not flatter it as it does the repeated layers of project_data."""
    chosen = random.Random(seed)
    layers, length = [], 0
    while length < size - 64:
        text = "".join(chosen.choice("abcdefghij klmnop") for _ in range(chosen.randint(5, 60)))
        layer = json.dumps(
            {
                "id": str(uuid.UUID(int=chosen.getrandbits(128))),
                "x": chosen.random() * 1000,
                "y": chosen.randint(0, 5000),
                "text": text,
            }
        )
        layers.append(layer)
        length += len(layer) + 2
    return f'{{"frames": [{{"id": "f1", "width": 1080, "layers": [{", ".join(layers)}]}}]}}'


def median_ms(run: Callable[[], object], rounds: int) -> float:
    for _ in range(3):
        run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


class Bench:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self.user = create_signed_in_user(database_url, LOCAL_ONLY_SECRET)
        # With the store's loaders: each json column as the bytes Postgres sent, as the handlers get it.
        self.raw = load_json_as_bytes(psycopg.connect(database_url, autocommit=True, prepare_threshold=None))
        functions = ("get_project", "put_project", "list_projects", "list_changes", "push_changes", "list_revisions")
        self.handlers = {name: load_function(name).handler for name in functions}

    @staticmethod
    def limit_params(scope: str) -> dict:
        """The limiter's parameters exactly as the store passes them, so raw SQL does the same work."""
        return projects_sql.limit_parameters(rate_limits_from(load_settings(ApiSettings)), Scope(scope))

    @staticmethod
    def body_params(body: bytes) -> dict:
        return projects_sql.body_parameters(rate_limits_from(load_settings(ApiSettings)), body)

    def handler_call(
        self, function: str, method: str, path: str, body: str | None = None, query: str = ""
    ) -> Callable[[], object]:
        def call():
            event = http_api_event(method, path, cookies=[self.user.cookie], body=body, query=query)
            response = self.handlers[function](event, None)
            assert response["statusCode"] == 200, response["body"][:200]

        return call

    def raw_call(self, sql: str, params: dict) -> Callable[[], object]:
        def call():
            with self.raw.cursor() as cursor:
                cursor.execute(sql, params, binary=True)  # as the store reads its rows
                cursor.fetchall()

        return call

    def put_pair(self, data: str, rounds: int) -> tuple[float, float]:
        """PUT at the current revision, `rounds` times, through the handler and raw; bodies built beforehand."""
        return self.handler_put_ms(data, rounds), self.raw_put_ms(projects_sql.PUT_PROJECT, data, rounds)

    def handler_put_ms(self, data: str | list[str], rounds: int) -> float:
        """PUT at the current revision `rounds` times through the handler (of `data`, or each in turn)."""
        bodies = iter([self._body(_nth(data, revision), revision) for revision in range(rounds + 3)])
        path = f"/api/projects/{uuid.uuid4()}"
        return median_ms(lambda: self.handler_call("put_project", "PUT", path, next(bodies))(), rounds)

    def raw_put_ms(self, sql: str, data: str | list[str], rounds: int) -> float:
        """PUT's statement `sql` at the current revision `rounds` times, raw, with the store's parameters."""
        project_id = uuid.uuid4()
        bodies = iter([self._body(_nth(data, revision), revision).encode() for revision in range(rounds + 3)])
        write_limits = self.limit_params("write")

        def raw():
            params = {"session_token": self.user.token, "project_id": project_id, "fallback_write_id": uuid.uuid4()}
            self.raw_call(sql, {**params, **write_limits, **self.body_params(next(bodies))})()

        return median_ms(raw, rounds)

    def revisions_pair(self, rounds: int) -> tuple[float, float]:
        """The history listing of a project of LISTED_REVISIONS revisions, through the handler and raw."""
        project_id = uuid.uuid4()
        for revision in range(LISTED_REVISIONS):
            self.handler_call("put_project", "PUT", f"/api/projects/{project_id}", self._body('{"v": 1}', revision))()
        params = {"session_token": self.user.token, "project_id": project_id, **self.limit_params("read")}
        path = f"/api/projects/{project_id}/revisions"
        return (
            median_ms(self.handler_call("list_revisions", "GET", path), rounds),
            median_ms(self.raw_call(projects_sql.LIST_REVISIONS, params), rounds),
        )

    def stored_bytes_per_revision(self, data: list[str], revisions: int) -> tuple[float, float]:
        """(data bytes, bytes on disk) per revision: project_revisions' heap, TOAST and indexes grown by
        `revisions` writes of one project, over the data they hold."""
        size = "SELECT pg_total_relation_size('public.project_revisions')"
        before = self.raw.execute(size).fetchone()[0]
        project_id = uuid.uuid4()
        for revision in range(revisions):
            body = self._body(_nth(data, revision), revision)
            self.handler_call("put_project", "PUT", f"/api/projects/{project_id}", body)()
        after = self.raw.execute(size).fetchone()[0]
        held = self.raw.execute(
            'SELECT sum(bytes) FROM public.project_revisions WHERE "userId" = %s AND id = %s',
            (self.user.id, project_id),
        ).fetchone()[0]
        return held / revisions, (after - before) / revisions

    def push_pair(self, data: str, rounds: int) -> tuple[float, float]:
        """POST /api/changes of BATCH_CHANGES new projects, `rounds` times, through the handler and raw."""
        handler_batches = iter([self._batch(data) for _ in range(rounds + 3)])
        raw_batches = iter([self._batch(data).encode() for _ in range(rounds + 3)])
        write_limits = self.limit_params("write")

        def through_handler():
            self.handler_call("push_changes", "POST", "/api/changes", next(handler_batches))()

        def raw():
            params = {"session_token": self.user.token, "fallback_write_id": uuid.uuid4(), "positions": None}
            body = self.body_params(next(raw_batches))
            self.raw_call(projects_sql.PUSH_CHANGES, {**params, **write_limits, **body})()

        return median_ms(through_handler, rounds), median_ms(raw, rounds)

    @staticmethod
    def _batch(data: str) -> str:
        changes = [
            f'{{"id": "{uuid.uuid4()}", "name": "bench", "baseRevision": 0, "data": {data}}}'
            for _ in range(BATCH_CHANGES)
        ]
        return '{"changes": [' + ", ".join(changes) + "]}"

    def get_pair(self, data: str, rounds: int) -> tuple[float, float]:
        project_id = uuid.uuid4()
        self.handler_call("put_project", "PUT", f"/api/projects/{project_id}", self._body(data, 0))()
        params = {
            "session_token": self.user.token,
            "project_id": project_id,
            "any_revision": False,
            "cached_revisions": [],
            **self.limit_params("read"),
        }
        return (
            median_ms(self.handler_call("get_project", "GET", f"/api/projects/{project_id}"), rounds),
            median_ms(self.raw_call(projects_sql.GET_PROJECT, params), rounds),
        )

    def list_pair(self, rounds: int) -> tuple[float, float]:
        for _ in range(LISTED_PROJECTS):
            self.handler_call("put_project", "PUT", f"/api/projects/{uuid.uuid4()}", self._body('{"v": 1}', 0))()
        params = {"session_token": self.user.token, "include_deleted": False, **self.limit_params("read")}
        return (
            median_ms(self.handler_call("list_projects", "GET", "/api/projects"), rounds),
            median_ms(self.raw_call(projects_sql.LIST_PROJECTS, params), rounds),
        )

    def changes_page(self, rounds: int) -> tuple[float, float, float]:
        """A first listing's page of FEED_PAGE_PROJECTS projects: handler, raw same SQL, and the floor."""
        feed = Bench(self.database_url)  # a user of its own, holding only the page's projects
        data = project_data(FEED_PROJECT_BYTES)
        for _ in range(FEED_PAGE_PROJECTS):
            feed.handler_call("put_project", "PUT", f"/api/projects/{uuid.uuid4()}", self._body(data, 0))()
        params = {
            "session_token": feed.user.token,
            "listing_began": None,
            "after_xid": str(FEED_START.change_xid),
            "after_id": FEED_START.project_id,
            "limit": FEED_PAGE_PROJECTS,
            "page_bytes": PAGE_BYTES,
            **self.limit_params("read"),
        }
        path = "/api/changes"
        handler = feed.handler_call("list_changes", "GET", path, query=f"limit={FEED_PAGE_PROJECTS}")
        return (
            median_ms(handler, rounds),
            median_ms(self.raw_call(projects_sql.LIST_CHANGES, params), rounds),
            median_ms(self.raw_call(FEED_FLOOR, {"user_id": feed.user.id, "limit": FEED_PAGE_PROJECTS}), rounds),
        )

    @staticmethod
    def _body(data: str, base_revision: int) -> str:
        return f'{{"name": "bench", "baseRevision": {base_revision}, "data": {data}}}'


def _nth(data: str | list[str], place: int) -> str:
    return data if isinstance(data, str) else data[place % len(data)]


def database_without_history(database_url: str) -> str:
    """A database of its own on the same server, migrated up to just before the history migration."""
    name = f"bench_without_history_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(database_url, dbname=name)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(BETTER_AUTH_TABLES.read_text())

    def connect():
        return psycopg.connect(url, autocommit=True)

    run_migrations(connect, MIGRATIONS, {})
    run_migrations(connect, MIGRATIONS, {"action": "rollback", "migration": HISTORY_EXPAND})
    return url


def history_cost(database_url: str) -> tuple[list[tuple], tuple, list[tuple]]:
    """PUT with history on (raw and through the handler) and off (raw, the statement from before it), in
    alternating runs so drift hits both alike; the listing of 200 revisions; stored bytes per revision."""
    with_history, without_history = Bench(database_url), Bench(database_without_history(database_url))
    puts = []
    for label, size in HISTORY_SIZES.items():
        data, rounds = [varied_project_data(size, seed) for seed in range(3)], HISTORY_ROUNDS[label]
        timings = {"off": [], "on": [], "handler": []}
        for _ in range(2):
            timings["off"].append(without_history.raw_put_ms(PUT_WITHOUT_HISTORY, data, rounds))
            timings["on"].append(with_history.raw_put_ms(projects_sql.PUT_PROJECT, data, rounds))
            timings["handler"].append(with_history.handler_put_ms(data, rounds))
        puts.append((label, timings))
    listing = with_history.revisions_pair(300)
    stored = [
        (label, *with_history.stored_bytes_per_revision([varied_project_data(size, seed) for seed in range(3)], count))
        for label, size, count in (("1 KiB", 1024, 200), ("1 MiB", 1024 * 1024, 12))
    ]
    return puts, listing, stored


def history_tables(puts: list[tuple], listing: tuple[float, float], stored: list[tuple]) -> str:
    def spread(values: list[float]) -> str:
        return f"{min(values):.2f}-{max(values):.2f}"

    lines = [
        "| PUT | history off: raw, statement before history (ms) | history on: raw, same parameters (ms) "
        "| on / off | history on: Lambda handler (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, timings in puts:
        ratios = [on / off for on, off in zip(timings["on"], timings["off"], strict=True)]
        lines.append(
            f"| {label} | {spread(timings['off'])} | {spread(timings['on'])} | {min(ratios):.2f}-{max(ratios):.2f}x "
            f"| {spread(timings['handler'])} |"
        )
    handler, raw = listing
    lines += [
        "",
        "| history listing | Lambda handler (ms) | raw psycopg, same SQL (ms) | handler / raw |",
        "|---|---:|---:|---:|",
        f"| {LISTED_REVISIONS} revisions | {handler:.2f} | {raw:.2f} | {handler / raw:.2f}x |",
        "",
        "| history bytes per revision | data (bytes) | on disk: heap + TOAST + indexes (bytes) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {held:,.0f} | {disk:,.0f} |" for label, held, disk in stored]
    return "\n".join(lines)


def limiter_cost(database_url: str) -> list[tuple]:
    """Requests through the handler with the limiter on and off, alternating so drift hits both alike."""
    rows = []
    for request, label in (("PUT", "1 KiB"), ("PUT", "100 KiB"), ("GET", "1 KiB")):
        data, rounds = project_data(SIZES[label]), ROUNDS[label] * 2
        timings = {}
        for enabled in ("false", "true", "false", "true"):
            os.environ["RATE_LIMITS_ENABLED"] = enabled
            load_settings.cache_clear()
            bench = Bench(database_url)
            pair = bench.put_pair(data, rounds) if request == "PUT" else bench.get_pair(data, rounds)
            timings.setdefault(enabled, []).append(pair[0])
        rows.append((request, label, min(timings["true"]), min(timings["false"])))
    os.environ.pop("RATE_LIMITS_ENABLED")
    load_settings.cache_clear()
    return rows


def bare_handler_ms(body: str, rounds: int) -> float:
    """FastAPI + Mangum handing back a ready-made body of the same size: the floor for any handler."""
    router = APIRouter()

    @router.get("/bare")
    async def bare() -> Response:
        return Response(body, media_type="application/json")

    handler = Mangum(api_app(router), lifespan="off")
    return median_ms(lambda: handler(http_api_event("GET", "/bare"), None), rounds)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="appframes-bench-") as directory:
        database_url = os.environ.get("BENCH_DATABASE_URL") or start_embedded_postgres(Path(directory) / "data")
        prepare_schema(database_url)
        os.environ.update(DATABASE_URL=database_url, BETTER_AUTH_SECRET=LOCAL_ONLY_SECRET, POWERTOOLS_LOG_LEVEL="ERROR")
        # The limiter runs on every request as in production, with limits the bench never reaches.
        os.environ.update(
            {
                f"RATE_LIMIT_{scope}_{knob}": "1000000000"
                for scope in ("READ", "WRITE", "WRITE_BYTES")
                for knob in ("PER_MINUTE", "BURST")
            }
        )
        load_settings.cache_clear()
        bench = Bench(database_url)
        rows = []
        for label, size in SIZES.items():
            data = project_data(size)
            rounds = ROUNDS[label]
            bare = bare_handler_ms(data, rounds)
            rows.append(("GET", label, *bench.get_pair(data, rounds), bare))
            rows.append(("PUT", label, *bench.put_pair(data, rounds), bare))
        rows.append(("list", f"{LISTED_PROJECTS} projects", *bench.list_pair(100), None))
        batch = f"{BATCH_CHANGES} x {BATCH_PROJECT_BYTES // 1024} KiB"
        rows.append(("POST changes", batch, *bench.push_pair(project_data(BATCH_PROJECT_BYTES), BATCH_ROUNDS), None))
        print(table(rows))
        print()
        print(changes_table(*bench.changes_page(100)))
        print()
        print(limiter_table(limiter_cost(database_url)))
        print()
        print(history_tables(*history_cost(database_url)))


def changes_table(handler: float, raw: float, floor: float) -> str:
    page = f"{FEED_PAGE_PROJECTS} projects of {FEED_PROJECT_BYTES // 1024} KiB"
    return "\n".join(
        [
            "| changes page | Lambda handler (ms) | raw psycopg, same SQL (ms) | handler / raw "
            "| floor: SELECT data::text (ms) | handler / floor |",
            "|---|---:|---:|---:|---:|---:|",
            f"| {page} | {handler:.2f} | {raw:.2f} | {handler / raw:.2f}x | {floor:.2f} | {handler / floor:.2f}x |",
        ]
    )


def limiter_table(rows: list[tuple]) -> str:
    lines = ["| request | size | limits on (ms) | limits off (ms) | on / off |", "|---|---|---:|---:|---:|"]
    lines += [f"| {request} | {size} | {on:.3f} | {off:.3f} | {on / off:.3f}x |" for request, size, on, off in rows]
    return "\n".join(lines)


def table(rows: list[tuple]) -> str:
    lines = [
        "| request | size | Lambda handler (ms) | raw psycopg, same SQL (ms) | handler / raw | bare handler (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for request, size, handler, raw, bare in rows:
        bare_text = "-" if bare is None else f"{bare:.2f}"
        lines.append(f"| {request} | {size} | {handler:.2f} | {raw:.2f} | {handler / raw:.2f}x | {bare_text} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
