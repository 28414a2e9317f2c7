"""`make bench`: the request paths of the API, timed through the real Lambda handlers, each next to
raw psycopg running the very same SQL on the same Postgres, and next to a bare handler (the functions'
app and adapter answering a ready-made body, no database) that shows what the framework alone costs.

The request paths and the floors are measured one way (`interleaved`): their calls in turn, round
by round, so a loaded machine weighs on all of them alike; the ratio is the median of the per-round
ratios with p10-p90, and CPU is this process's plus that of each call's Postgres backend. On the
embedded Postgres (or BENCH_DATABASE_URL). GET and PUT also stand next to their floor, the plainest
statement reading or storing the same bytes (the current revision's `SELECT data::text`, the revision
row's `INSERT ... $1::json`); and gzip-encoded next to plain (bytes on the wire, server time).
Projects are varied, as an editor writes them (`project_data`).
"""

import base64
import gzip
import itertools
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo
from starlette.responses import Response
from starlette.routing import Route, Router

from devserver.database import BETTER_AUTH_TABLES, MIGRATIONS, prepare_schema, start_embedded_postgres
from devserver.dev_auth import LOCAL_ONLY_SECRET
from devserver.functions import load_function
from sync_core.adapters import projects_sql
from sync_core.adapters.assembly import api_app, rate_limits_from, storage_quota_from
from sync_core.adapters.http.api_gateway import HttpApiHandler
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

# The floor of a project's write and read: the plainest statements storing or reading the same bytes.
# With history a write's data goes into a new revision row (the projects row takes only its small
# fields), so the floor of a write is that row's INSERT; a read's, the current revision's data as text.
PUT_FLOOR = """
INSERT INTO public.project_revisions ("userId", id, revision, name, data, "updatedAt", bytes)
VALUES (%(user_id)s, %(project_id)s, %(revision)s, 'bench', %(data)s::json, now(), %(bytes)s)
"""
GET_FLOOR = """
SELECT kept.data::text
FROM public.projects AS project
JOIN public.project_revisions AS kept
    ON kept."userId" = project."userId" AND kept.id = project.id AND kept.revision = project.revision
WHERE project."userId" = %(user_id)s AND project.id = %(project_id)s
"""
WARM_UP = 3
# Gzip comparisons: the sizes where compression matters on a phone's uplink.
COMPRESSED_SIZES = ("1 MiB", "4 MiB")

# A first sign-in's claim: batches of 100 typical projects.
BATCH_CHANGES, BATCH_PROJECT_BYTES, BATCH_ROUNDS = 100, 10 * 1024, 20

# Project history (issue 14): PUT with history (this schema) against PUT without it (the statement and
# schema from before the history migration, on a database of their own), and a 200-revision listing.
HISTORY_SIZES = {"1 KiB": 1024, "1 MiB": 1024 * 1024, "4 MiB": 4 * 1024 * 1024 - 512}
HISTORY_ROUNDS = {"1 KiB": 300, "1 MiB": 30, "4 MiB": 12}
HISTORY_EXPAND = "20261203_01_create-project-revisions"
PUT_WITHOUT_HISTORY = (Path(__file__).resolve().parent / "put_project_without_history.sql").read_text()
LISTED_REVISIONS = 200


WORDS = (
    "Launch",
    "day",
    "your",
    "photos",
    "in",
    "every",
    "frame",
    "Share",
    "with",
    "friends",
    "Dark",
    "mode",
    "now",
    "faster",
    "than",
    "ever",
    "Track",
    "habits",
    "daily",
    "Plan",
    "trips",
    "together",
    "Sync",
    "across",
    "devices",
    "Edit",
    "offline",
    "Beautiful",
    "widgets",
    "for",
    "home",
    "screen",
)
FONTS = ("Inter", "SF Pro Display", "Roboto", "Playfair Display", "Montserrat")


def project_data(size: int, seed: int = 15) -> str:
    """A project payload of about `size` bytes, shaped like an editor's: frames holding layers, each
    with its own id, position, size, text and colour, as an editor writes them (so it compresses the
    way real projects do, ~4x, not the ~100x of one layer repeated)."""
    chance = random.Random(seed)
    frames, length, full = [], 16, False
    while not full:
        frame_id = str(uuid.UUID(int=chance.getrandbits(128), version=4))
        frame_start = f'{{"id": "{frame_id}", "width": 1290, "height": 2796, "layers": ['
        layers, length = [], length + len(frame_start) + 4
        for _ in range(chance.randrange(4, 30)):
            layer = json.dumps(
                {
                    "id": str(uuid.UUID(int=chance.getrandbits(128), version=4)),
                    "type": chance.choice(("text", "text", "image", "shape", "device")),
                    "x": round(chance.uniform(0, 1290), 2),
                    "y": round(chance.uniform(0, 2796), 2),
                    "width": chance.randrange(40, 1290),
                    "height": chance.randrange(40, 900),
                    "rotation": chance.choice((0, 0, 0, round(chance.uniform(-15, 15), 1))),
                    "text": " ".join(chance.choice(WORDS) for _ in range(chance.randrange(1, 9))),
                    "style": {
                        "font": chance.choice(FONTS),
                        "size": chance.randrange(12, 96),
                        "color": f"#{chance.getrandbits(24):06x}",
                    },
                }
            )
            full = length + len(layer) + 2 > size
            if full and (layers or frames):
                break
            layers.append(layer)
            length += len(layer) + 2
        frames.append(frame_start + ", ".join(layers) + "]}")
    return f'{{"frames": [{", ".join(frames)}]}}'


def median_ms(run: Callable[[], object], rounds: int) -> float:
    for _ in range(WARM_UP):
        run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


@dataclass
class Samples:
    """One call's timings over interleaved rounds, in ms: wall-clock, this process's CPU, and the CPU of the
    Postgres backend serving it (None when the server's processes are not on this machine)."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    backend_cpus: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)

    @property
    def backend_cpu(self) -> float | None:
        return statistics.median(self.backend_cpus) if self.backend_cpus else None


def backend_cpu_ms(pid: int | None) -> float | None:
    """The time Postgres backend `pid` has spent on a CPU (the kernel's schedstat), if it runs here."""
    try:
        with open(f"/proc/{pid}/schedstat") as schedstat:
            return int(schedstat.read().split()[0]) / 1e6
    except (OSError, TypeError):
        return None


def interleaved(
    calls: dict[str, Callable[[], object]],
    rounds: int,
    warm_up: int = 3,
    backends: dict[str, int | None] | None = None,
) -> dict[str, Samples]:
    """Each call once per round, in turn, so that a shared machine's load falls on all of them alike; with
    `backends` (each call's Postgres backend pid), also the CPU that backend spent on it."""
    samples = {name: Samples() for name in calls}
    backends = backends or {}
    for round_number in range(warm_up + rounds):
        for name, call in calls.items():
            backend = backend_cpu_ms(backends.get(name))
            wall, cpu = time.perf_counter(), time.process_time()
            call()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if round_number >= warm_up:
                samples[name].walls.append(wall * 1000)
                samples[name].cpus.append(cpu * 1000)
                if backend is not None:
                    samples[name].backend_cpus.append(backend_cpu_ms(backends[name]) - backend)
    return samples


def ratio_spread(over: Samples, under: Samples) -> tuple[float, float, float]:
    """The per-round ratio over / under: its median and its 10th and 90th percentiles."""
    return _spread([a / b for a, b in zip(over.walls, under.walls, strict=True)])


def cpu_ratio_spread(over: Samples, under: Samples) -> tuple[float, float, float] | None:
    """As ratio_spread, of the CPU each round cost this process and its Postgres backend together."""
    if not over.backend_cpus or not under.backend_cpus:
        return None
    totals = [
        (over_cpu + over_backend) / (under_cpu + under_backend)
        for over_cpu, over_backend, under_cpu, under_backend in zip(
            over.cpus, over.backend_cpus, under.cpus, under.backend_cpus, strict=True
        )
    ]
    return _spread(totals)


def _spread(ratios: list[float]) -> tuple[float, float, float]:
    ratios = sorted(ratios)
    deciles = statistics.quantiles(ratios, n=10) if len(ratios) > 1 else ratios * 9
    return statistics.median(ratios), deciles[0], deciles[-1]


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
        settings = load_settings(ApiSettings)
        return {
            **projects_sql.body_parameters(rate_limits_from(settings), body),
            **projects_sql.data_span_parameters(body),
            **projects_sql.quota_parameters(storage_quota_from(settings)),
        }

    def handler_call(
        self,
        function: str,
        method: str,
        path: str,
        body: str | bytes | None = None,
        query: str = "",
        headers: dict[str, str] | None = None,
    ) -> Callable[[], dict]:
        # Built before the call is timed: API Gateway hands the function its event (the cookie's quoting
        # alone was ~10% of a small GET's handler CPU).
        event = http_api_event(method, path, cookies=[self.user.cookie], body=body, query=query, headers=headers)

        def call() -> dict:
            response = self.handlers[function](event, None)
            assert response["statusCode"] == 200, response["body"][:200]
            return response

        return call

    def raw_call(self, sql: str, params: dict) -> Callable[[], object]:
        def call():
            with self.raw.cursor() as cursor:
                cursor.execute(sql, params, binary=True)  # as the store reads its rows
                if cursor.description is not None:
                    cursor.fetchall()

        return call

    def backends_of(self, calls: dict[str, Callable[[], object]]) -> dict[str, int | None]:
        """Each call's Postgres backend: a handler's is its function's own connection (found by calling it
        once: the backend that finished a statement last), every other call's this raw connection."""
        backends = dict.fromkeys(calls, self.raw.info.backend_pid)
        if "handler" in calls:
            calls["handler"]()
            last = self.raw.execute(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                " ORDER BY state_change DESC LIMIT 1"
            ).fetchone()
            backends["handler"] = last[0] if last else None
        return backends

    def put_calls(self, data: str, rounds: int) -> dict[str, Callable[[], object]]:
        """PUT at the current revision through the handler and raw (the same SQL), and the floor: the
        plainest statement storing the same bytes. Bodies are built beforehand, one per call (and one
        for backends_of)."""
        calls = rounds + WARM_UP + 1
        handler_id, raw_id, floor_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        handler_bodies = iter([self._body(data, revision) for revision in range(calls)])
        raw_bodies = iter([self._body(data, revision).encode() for revision in range(calls)])
        path = f"/api/projects/{handler_id}"
        write_limits = self.limit_params("write")
        self.handler_call("put_project", "PUT", f"/api/projects/{floor_id}", self._body("{}", 0))()
        floor_revisions = itertools.count(2)  # after the one the handler's PUT made
        floor_params = {"project_id": floor_id, "user_id": self.user.id, "data": data, "bytes": len(data.encode())}

        def through_handler():
            self.handler_call("put_project", "PUT", path, next(handler_bodies))()

        def raw():
            params = {"session_token": self.user.token, "project_id": raw_id, "fallback_write_id": uuid.uuid4()}
            body = self.body_params(next(raw_bodies))
            self.raw_call(projects_sql.PUT_PROJECT, {**params, **write_limits, **body})()

        def floor():
            self.raw_call(PUT_FLOOR, {**floor_params, "revision": next(floor_revisions)})()

        return {"handler": through_handler, "raw": raw, "floor": floor}

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

    def revisions_calls(self) -> dict[str, Callable[[], object]]:
        """The history listing of a project of LISTED_REVISIONS revisions, through the handler and raw."""
        project_id = uuid.uuid4()
        for revision in range(LISTED_REVISIONS):
            self.handler_call("put_project", "PUT", f"/api/projects/{project_id}", self._body('{"v": 1}', revision))()
        params = {"session_token": self.user.token, "project_id": project_id, **self.limit_params("read")}
        return {
            "handler": self.handler_call("list_revisions", "GET", f"/api/projects/{project_id}/revisions"),
            "raw": self.raw_call(projects_sql.LIST_REVISIONS, params),
        }

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

    def push_calls(self, data: str, rounds: int) -> dict[str, Callable[[], object]]:
        """POST /api/changes of BATCH_CHANGES new projects through the handler and raw (bodies made beforehand)."""
        handler_batches = iter([self._batch(data) for _ in range(rounds + WARM_UP + 1)])
        raw_batches = iter([self._batch(data).encode() for _ in range(rounds + WARM_UP)])
        write_limits = self.limit_params("write")

        def through_handler():
            self.handler_call("push_changes", "POST", "/api/changes", next(handler_batches))()

        def raw():
            params = {"session_token": self.user.token, "fallback_write_id": uuid.uuid4(), "positions": None}
            body = self.body_params(next(raw_batches))
            self.raw_call(projects_sql.PUSH_CHANGES, {**params, **write_limits, **body})()

        return {"handler": through_handler, "raw": raw}

    @staticmethod
    def _batch(data: str) -> str:
        changes = [
            f'{{"id": "{uuid.uuid4()}", "name": "bench", "baseRevision": 0, "data": {data}}}'
            for _ in range(BATCH_CHANGES)
        ]
        return '{"changes": [' + ", ".join(changes) + "]}"

    def get_calls(self, data: str) -> dict[str, Callable[[], object]]:
        """GET through the handler and raw (the same SQL), and the floor: the project's data as text."""
        project_id = uuid.uuid4()
        self.handler_call("put_project", "PUT", f"/api/projects/{project_id}", self._body(data, 0))()
        params = {
            "session_token": self.user.token,
            "project_id": project_id,
            "any_revision": False,
            "cached_revisions": [],
            **self.limit_params("read"),
        }
        return {
            "handler": self.handler_call("get_project", "GET", f"/api/projects/{project_id}"),
            "raw": self.raw_call(projects_sql.GET_PROJECT, params),
            "floor": self.raw_call(GET_FLOOR, {"project_id": project_id, "user_id": self.user.id}),
        }

    def compression_calls(self, data: str, rounds: int) -> tuple[dict[str, Callable[[], object]], dict[str, int]]:
        """GET and PUT of one project plain and gzip-encoded (the body as CompressionStream's default level
        makes it), through the handler; and the bytes each puts on the wire (the body, before base64)."""
        get_path, put_path = f"/api/projects/{uuid.uuid4()}", f"/api/projects/{uuid.uuid4()}"
        self.handler_call("put_project", "PUT", get_path, self._body(data, 0))()
        bodies = [self._body(data, revision) for revision in range(2 * (rounds + WARM_UP))]
        plain_bodies, gzip_bodies = iter(bodies[0::2]), iter([gzip.compress(body.encode()) for body in bodies[1::2]])
        encoded = {"Content-Encoding": "gzip"}
        get_plain = self.handler_call("get_project", "GET", get_path)
        get_gzip = self.handler_call("get_project", "GET", get_path, headers={"Accept-Encoding": "gzip"})
        wire = {
            "GET": len(answer_bytes(get_plain())),
            "GET gzip": len(answer_bytes(get_gzip())),
            "PUT": len(bodies[0].encode()),
            "PUT gzip": len(gzip.compress(bodies[1].encode())),
        }
        return {
            "GET": get_plain,
            "GET gzip": get_gzip,
            "PUT": lambda: self.handler_call("put_project", "PUT", put_path, next(plain_bodies))(),
            "PUT gzip": lambda: self.handler_call("put_project", "PUT", put_path, next(gzip_bodies), headers=encoded)(),
        }, wire

    def list_calls(self) -> dict[str, Callable[[], object]]:
        for _ in range(LISTED_PROJECTS):
            self.handler_call("put_project", "PUT", f"/api/projects/{uuid.uuid4()}", self._body('{"v": 1}', 0))()
        params = {"session_token": self.user.token, "include_deleted": False, **self.limit_params("read")}
        return {
            "handler": self.handler_call("list_projects", "GET", "/api/projects"),
            "raw": self.raw_call(projects_sql.LIST_PROJECTS, params),
        }

    def changes_calls(self) -> dict[str, Callable[[], object]]:
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
        return {
            "handler": feed.handler_call("list_changes", "GET", "/api/changes", query=f"limit={FEED_PAGE_PROJECTS}"),
            "raw": self.raw_call(projects_sql.LIST_CHANGES, params),
            "floor": self.raw_call(FEED_FLOOR, {"user_id": feed.user.id, "limit": FEED_PAGE_PROJECTS}),
        }

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


def history_cost(database_url: str) -> tuple[list[tuple], list[tuple]]:
    """PUT with history on (raw and through the handler) and off (raw, the statement from before it), in
    alternating runs so drift hits both alike; stored bytes per revision. (The listing of 200 revisions is
    a request path: main's table.)"""
    with_history, without_history = Bench(database_url), Bench(database_without_history(database_url))
    puts = []
    for label, size in HISTORY_SIZES.items():
        data, rounds = [project_data(size, seed) for seed in range(3)], HISTORY_ROUNDS[label]
        timings = {"off": [], "on": [], "handler": []}
        for _ in range(2):
            timings["off"].append(without_history.raw_put_ms(PUT_WITHOUT_HISTORY, data, rounds))
            timings["on"].append(with_history.raw_put_ms(projects_sql.PUT_PROJECT, data, rounds))
            timings["handler"].append(with_history.handler_put_ms(data, rounds))
        puts.append((label, timings))
    stored = [
        (label, *with_history.stored_bytes_per_revision([project_data(size, seed) for seed in range(3)], count))
        for label, size, count in (("1 KiB", 1024, 200), ("1 MiB", 1024 * 1024, 12))
    ]
    return puts, stored


def history_tables(puts: list[tuple], stored: list[tuple]) -> str:
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
    lines += [
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
            calls = bench.put_calls(data, rounds) if request == "PUT" else bench.get_calls(data)
            timings.setdefault(enabled, []).append(interleaved({"handler": calls["handler"]}, rounds)["handler"].wall)
        rows.append((request, label, min(timings["true"]), min(timings["false"])))
    os.environ.pop("RATE_LIMITS_ENABLED")
    load_settings.cache_clear()
    return rows


def answer_bytes(response: dict) -> bytes:
    body = response.get("body", "")
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def bare_handler_ms(body: str, rounds: int) -> float:
    """The functions' app and adapter handing back a ready-made body of the same size: the floor for any handler."""

    async def bare(request) -> Response:
        return Response(body, media_type="application/json")

    handler = HttpApiHandler(api_app(Router([Route("/bare", bare)])))
    return median_ms(lambda: handler(http_api_event("GET", "/bare"), None), rounds)


def bench_database(directory: Path) -> str:
    """BENCH_DATABASE_URL or an embedded Postgres in `directory`, migrated, and the environment every
    benchmark's handlers read: the limiter runs on every request as in production, with limits the
    benchmarks never reach."""
    database_url = os.environ.get("BENCH_DATABASE_URL") or start_embedded_postgres(directory / "data")
    prepare_schema(database_url)
    os.environ.update(DATABASE_URL=database_url, BETTER_AUTH_SECRET=LOCAL_ONLY_SECRET)
    os.environ.update(
        {
            f"RATE_LIMIT_{scope}_{knob}": "1000000000"
            for scope in ("READ", "WRITE", "WRITE_BYTES")
            for knob in ("PER_MINUTE", "BURST")
        }
    )
    load_settings.cache_clear()
    return database_url


# The request paths besides GET and PUT at each size, each as (request, size, what makes its calls, rounds).
OTHER_PATHS = [
    ("list", f"{LISTED_PROJECTS} projects", Bench.list_calls, 100),
    (
        "POST changes",
        f"{BATCH_CHANGES} x {BATCH_PROJECT_BYTES // 1024} KiB",
        lambda bench: bench.push_calls(project_data(BATCH_PROJECT_BYTES), BATCH_ROUNDS),
        BATCH_ROUNDS,
    ),
    ("changes page", f"{FEED_PAGE_PROJECTS} x {FEED_PROJECT_BYTES // 1024} KiB", Bench.changes_calls, 200),
    ("history listing", f"{LISTED_REVISIONS} revisions", Bench.revisions_calls, 300),
]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="appframes-bench-") as directory:
        database_url = bench_database(Path(directory))
        bench = Bench(database_url)
        rows, floor_rows, compression_rows = [], [], []
        for label in SIZES:
            data, rounds = project_data(SIZES[label]), ROUNDS[label]
            bare = bare_handler_ms(data, rounds)
            for request, calls in (("GET", bench.get_calls(data)), ("PUT", bench.put_calls(data, rounds))):
                samples = interleaved(calls, rounds, backends=bench.backends_of(calls))
                rows.append((request, label, samples, bare))
                floor_rows.append((request, label, samples, ratio_spread(samples["handler"], samples["floor"])))
            if label in COMPRESSED_SIZES:
                calls, wire = bench.compression_calls(data, rounds)
                compression_rows.append((label, interleaved(calls, rounds), wire))
        # Each on a Bench of its own: a raw connection that served the megabyte reads and writes of another
        # path reads a 1 MB page ~15% faster (its backend's heap keeps large blocks) than the function's own,
        # which served only its path; each side's backend then has served the same work.
        for request, size, make_calls, rounds in OTHER_PATHS:
            path_bench = Bench(database_url)
            calls = make_calls(path_bench)
            rows.append((request, size, interleaved(calls, rounds, backends=path_bench.backends_of(calls)), None))
        print(table(rows))
        print()
        print(floor_table(floor_rows))
        print()
        print(compression_table(compression_rows))
        print()
        print(changes_table([samples for request, _, samples, _ in rows if request == "changes page"]))
        print()
        print(limiter_table(limiter_cost(database_url)))
        print()
        print(history_tables(*history_cost(database_url)))


def changes_table(runs: list[dict[str, Samples]]) -> str:
    """The changes page against its floor (the same rows' data as text), a line per run."""
    lines = [
        "| changes page | handler (ms) | raw, same SQL (ms) | handler / raw (p10-p90) | floor: SELECT data::text (ms)"
        " | handler / floor (p10-p90) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run, samples in enumerate(runs, 1):
        handler, raw, floor = samples["handler"], samples["raw"], samples["floor"]
        lines.append(
            f"| run {run} | {handler.wall:.2f} | {raw.wall:.2f} | {_ratio_text(ratio_spread(handler, raw))}"
            f" | {floor.wall:.2f} | {_ratio_text(ratio_spread(handler, floor))} |"
        )
    return "\n".join(lines)


def _ratio_text(spread: tuple[float, float, float] | None) -> str:
    if spread is None:
        return "-"
    ratio, low, high = spread
    return f"{ratio:.2f}x ({low:.2f}-{high:.2f})"


def _cpu_text(samples: Samples) -> str:
    """This process's CPU + the Postgres backend's, in ms."""
    backend = "-" if samples.backend_cpu is None else f"{samples.backend_cpu:.2f}"
    return f"{samples.cpu:.2f} + {backend}"


def floor_table(rows: list[tuple]) -> str:
    lines = [
        "| request | size | handler (ms) | floor (ms) | handler / floor (p10-p90) | CPU handler (ms)"
        " | CPU floor (ms) | CPU handler / floor (p10-p90) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for request, size, samples, spread in rows:
        handler, floor = samples["handler"], samples["floor"]
        lines.append(
            f"| {request} | {size} | {handler.wall:.2f} | {floor.wall:.2f} | {_ratio_text(spread)}"
            f" | {_cpu_text(handler)} | {_cpu_text(floor)} | {_ratio_text(cpu_ratio_spread(handler, floor))} |"
        )
    return "\n".join(lines)


def compression_table(rows: list[tuple]) -> str:
    lines = [
        "| request | size | body on the wire (bytes) | gzip on the wire (bytes) | server (ms) | gzip server (ms) |"
        " server CPU (ms) | gzip server CPU (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, samples, wire in rows:
        for request in ("GET", "PUT"):
            plain, encoded = samples[request], samples[f"{request} gzip"]
            lines.append(
                f"| {request} | {size} | {wire[request]:,} | {wire[f'{request} gzip']:,} | {plain.wall:.2f}"
                f" | {encoded.wall:.2f} | {plain.cpu:.2f} | {encoded.cpu:.2f} |"
            )
    return "\n".join(lines)


def limiter_table(rows: list[tuple]) -> str:
    lines = ["| request | size | limits on (ms) | limits off (ms) | on / off |", "|---|---|---:|---:|---:|"]
    lines += [f"| {request} | {size} | {on:.3f} | {off:.3f} | {on / off:.3f}x |" for request, size, on, off in rows]
    return "\n".join(lines)


def table(rows: list[tuple]) -> str:
    """The request paths: handler and raw psycopg (same SQL) called in turn, round by round; the ratio is
    the median of the per-round ratios, p10-p90 in brackets; CPU is this process's + its Postgres backend's."""
    lines = [
        "| request | size | Lambda handler (ms) | raw psycopg, same SQL (ms) | handler / raw (p10-p90) "
        "| CPU handler (ms) | CPU raw (ms) | CPU handler / raw (p10-p90) | bare handler (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for request, size, samples, bare in rows:
        handler, raw = samples["handler"], samples["raw"]
        bare_text = "-" if bare is None else f"{bare:.2f}"
        lines.append(
            f"| {request} | {size} | {handler.wall:.2f} | {raw.wall:.2f} | {_ratio_text(ratio_spread(handler, raw))}"
            f" | {_cpu_text(handler)} | {_cpu_text(raw)} | {_ratio_text(cpu_ratio_spread(handler, raw))}"
            f" | {bare_text} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
