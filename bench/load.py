"""`python -m bench.load [options]`: many editors at once against the real Lambda handlers on one
Postgres, and what each kind of request cost it (issue 16, "Capacity, measured"; docs/capacity.md).

Each simulated editor is one signed-in device (a real Better Auth user and session) doing what
client/src does: at sign-in it reads the changes feed from scratch, page by page (GET /api/changes);
the editor commits after a 300 ms pause in typing (client/README.md), and the engine pushes every
queued project in one POST /api/changes a debounce after the first unsent commit; every poll interval
it reads the feed from its cursor, then pushes. The debounce and the poll interval are read from
client/src/engine.js. A few users edit one project on two devices at once: their stale pushes are
the deliberate 409s; the device parks the project until its user answers (keep mine: push again on
the server's revision; take theirs). Bodies of 8 KiB or more go gzip-compressed and answers are
taken gzip-compressed, as a browser does.

Worker processes (2 cores: Python's CPU, not Postgres, would bound one process) each play one warm
Lambda execution environment: they call the handlers in-process, one request at a time, for their
share of the editors, on the clock the editors set; a request that starts late (the environment was
busy) shows as schedule lag. Bounded by time and by requests; nothing leaves the machine (Postgres
on a Unix socket). Postgres' own accounting (pg_stat_statements; each backend's /proc schedstat,
which counts failed statements too) is read over the measured window only.
"""

import argparse
import functools
import gzip
import heapq
import json
import logging
import multiprocessing
import os
import random
import re
import statistics
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.__main__ import project_data
from bench.statement_stats import backend_cpu_ns, server_cpu_ns, start_postgres_with_statement_stats
from devserver.database import prepare_schema
from devserver.dev_auth import LOCAL_ONLY_SECRET
from devserver.functions import load_function
from sync_core.adapters.projects_sql import STATEMENTS
from tests.support.accounts import create_signed_in_user, sign_in_again
from tests.support.lambda_events import LambdaResponse, http_api_event

ENGINE_JS = (Path(__file__).resolve().parents[1] / "client" / "src" / "engine.js").read_text()


def _client_setting_seconds(name: str) -> float:
    return int(re.search(rf"{name}: ([\d_]+),", ENGINE_JS).group(1).replace("_", "")) / 1000


DEBOUNCE_S = _client_setting_seconds("debounceMs")
POLL_S = _client_setting_seconds("pollMs")
COMPRESS_FROM_BYTES = 8 * 1024  # client/src/adapters/http-transport.js, COMPRESS_BODIES_FROM_BYTES
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
# What an editor does between commits (an assumption, docs/capacity.md "The simulated editor"): a burst
# of typing or dragging with no pause over 300 ms, then a pause; now and then a long one (reading, choosing).
BURST_S = (1.0, 6.0)
PAUSE_S = (0.5, 6.0)
LONG_PAUSE_S = (15.0, 60.0)
LONG_PAUSE_SHARE = 0.2
SECOND_DEVICE_LONG_PAUSE_SHARE = 0.8  # the other device of a two-device user edits now and then
ANSWER_CONFLICT_S = (3.0, 15.0)  # the user reads the conflict prompt, then keeps theirs or the server's
PROJECT_BYTES = (4 * 1024, 128 * 1024)  # log-uniform: most projects tens of KiB
PAYLOADS = 24  # distinct payloads, reused across projects (generating thousands takes longer than the run)
MAX_BATCH_BYTES = 3 * 1024 * 1024  # client/src/push-queue.js: a seeding batch stays under it
ROUTE_STATEMENT = {"sign-in page": "list_changes", "poll page": "list_changes", "push": "push_changes"}
LOGGER = "appframes-sync"


@dataclass(frozen=True)
class Device:
    cookie: str
    project_ids: tuple[str, ...]
    open_project: str
    starts_after: float
    long_pause_share: float
    seed: int


@dataclass
class Sample:
    label: str
    status: int
    item_status: int | None
    duration_ms: float
    postgres_ms: float
    handler_cpu_ms: float
    lag_ms: float
    due_s: float  # since the window opened


@dataclass
class WorkerResult:
    samples: list[Sample]
    cpu_s: float
    wall_s: float


# ---------------------------------------------------------------- the population


def create_population(database_url: str, options: argparse.Namespace) -> list[Device]:
    """Users, sessions and projects, seeded through the real POST /api/changes, in parallel."""
    chance = random.Random(options.seed)
    two_device_users = round(options.editors * options.two_device_share / 2)
    users = options.editors - two_device_users
    plans = [(index, chance.randint(*options.projects), index < two_device_users) for index in range(users)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        seeded = pool.starmap(_seed_user, [(database_url, *plan) for plan in plans])
    devices = []
    for index, (cookies, project_ids) in enumerate(seeded):
        open_project = project_ids[0]
        for device, cookie in enumerate(cookies):
            devices.append(
                Device(
                    cookie=cookie,
                    project_ids=tuple(project_ids),
                    open_project=open_project,
                    starts_after=chance.uniform(0, options.ramp),
                    long_pause_share=SECOND_DEVICE_LONG_PAUSE_SHARE if device else LONG_PAUSE_SHARE,
                    seed=options.seed * 100_003 + index * 2 + device,
                )
            )
    return devices


def _seed_user(database_url: str, index: int, projects: int, two_devices: bool) -> tuple[list[str], list[str]]:
    user = create_signed_in_user(database_url, LOCAL_ONLY_SECRET)
    second = [sign_in_again(database_url, LOCAL_ONLY_SECRET, user).cookie] if two_devices else []
    push = _seeding_handler()
    project_ids = [str(uuid.uuid4()) for _ in range(projects)]
    batch, batch_bytes = [], 0
    for number, project_id in enumerate(project_ids):
        item = _change(project_id, payload(index * 7 + number), 0, f"seed {number}")
        if batch and batch_bytes + len(item) > MAX_BATCH_BYTES:
            _seed_batch(push, user.cookie, batch)
            batch, batch_bytes = [], 0
        batch.append(item)
        batch_bytes += len(item)
    _seed_batch(push, user.cookie, batch)
    return [user.cookie, *second], project_ids


@functools.cache
def _seeding_handler():
    return load_function("push_changes").handler


def _seed_batch(push, cookie: str, items: list[str]) -> None:
    response = LambdaResponse(push(_event("POST", "/api/changes", cookie, body=_changes_body(items)), None))
    statuses = {result["status"] for result in response.json()["results"]} if response.status == 200 else set()
    if statuses != {200}:
        raise SystemExit(f"seeding failed: {response}")


_payloads: dict[int, str] = {}


def payload(number: int) -> str:
    """One of PAYLOADS project payloads, sizes log-uniform over PROJECT_BYTES."""
    slot = number % PAYLOADS
    if slot not in _payloads:
        low, high = PROJECT_BYTES
        _payloads[slot] = project_data(round(low * (high / low) ** (slot / (PAYLOADS - 1))), seed=slot)
    return _payloads[slot]


def _change(project_id: str, data: str, base_revision: int, name: str) -> str:
    return (
        json.dumps(
            {
                "id": project_id,
                "name": name,
                "baseRevision": base_revision,
                "writeId": str(uuid.uuid4()),
                "clientUpdatedAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
        )[:-1]
        + f', "data": {data}}}'
    )


def _changes_body(items: list[str]) -> str:
    return '{"changes": [' + ", ".join(items) + "]}"


def _event(method: str, path: str, cookie: str, query: str = "", body: str | None = None) -> dict:
    headers = {"Accept-Encoding": BROWSER_ACCEPT_ENCODING}
    sent: str | bytes | None = body
    if body is not None and len(body) >= COMPRESS_FROM_BYTES:
        sent = gzip.compress(body.encode(), compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return http_api_event(method, path, cookies=[cookie], headers=headers, query=query, body=sent)


# ---------------------------------------------------------------- one worker process


class RequestLogCapture(logging.Handler):
    """The request log's line of the last request (its time in Postgres), from the service's logger."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.postgres_ms = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "request":
            self.postgres_ms = record.__dict__["postgres_ms"]

    @classmethod
    def install(cls) -> "RequestLogCapture":
        capture = cls()
        service = logging.getLogger(LOGGER)
        service.handlers = [capture]
        service.setLevel(logging.INFO)
        service.propagate = False
        return capture


class Simulation:
    """The editors' timers on one clock, one request at a time (one warm execution environment)."""

    def __init__(self, started: float, deadline: float, budget: int):
        self.handlers = {"GET": load_function("list_changes").handler, "POST": load_function("push_changes").handler}
        self.capture = RequestLogCapture.install()
        self.started, self.deadline, self.budget = started, deadline, budget
        self.timers: list[tuple[float, int, object]] = []
        self.sequence = 0
        self.samples: list[Sample] = []

    def at(self, due: float, action) -> None:
        self.sequence += 1
        heapq.heappush(self.timers, (due, self.sequence, action))

    def run(self) -> None:
        while self.timers and len(self.samples) < self.budget:
            due, _, action = heapq.heappop(self.timers)
            if due > self.deadline:
                return
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            action(due)

    def request(self, label: str, due: float, method: str, cookie: str, query: str = "", body: str | None = None):
        event = _event(method, "/api/changes", cookie, query, body)
        started, cpu = time.perf_counter(), time.process_time()
        lag = time.monotonic() - due
        response = LambdaResponse(self.handlers[method](event, None))
        duration, cpu = time.perf_counter() - started, time.process_time() - cpu
        answer = response.json()
        item_status = answer["results"][0]["status"] if method == "POST" and response.status == 200 else None
        self.samples.append(
            Sample(
                label,
                response.status,
                item_status,
                duration * 1000,
                self.capture.postgres_ms,
                cpu * 1000,
                lag * 1000,
                due - self.started,
            )
        )
        return response, answer


class Editor:
    """One device, as client/src/sync-loop.js and pass-scheduler.js drive it."""

    def __init__(self, device: Device, simulation: Simulation, started: float):
        self.device, self.simulation = device, simulation
        self.chance = random.Random(device.seed)
        self.revisions = dict.fromkeys(device.project_ids, 1)
        self.cursor: str | None = None
        self.edits = 0
        self.queued = self.parked = False
        self.needs_merge = True
        self.pass_due: float | None = None
        signed_in = started + device.starts_after
        simulation.at(signed_in, self.pass_now)  # startLeading: merge (and claim) at once, then poll
        simulation.at(signed_in + POLL_S, self.poll)
        simulation.at(signed_in + self._until_next_commit(), self.commit)

    def _until_next_commit(self) -> float:
        long = self.chance.random() < self.device.long_pause_share
        return self.chance.uniform(*(LONG_PAUSE_S if long else PAUSE_S)) + self.chance.uniform(*BURST_S)

    def schedule_pass(self, due: float) -> None:
        """pass-scheduler.js: an earlier armed pass is kept, so typing never postpones a push."""
        if self.pass_due is not None and self.pass_due <= due:
            return
        self.pass_due = due
        self.simulation.at(due, lambda now: self.pass_now(now) if self.pass_due == due else None)

    def pass_now(self, now: float) -> None:
        self.pass_due = None
        if self.needs_merge:
            self.merge(now)
        if self.queued and not self.parked:
            self.push(now)

    def commit(self, now: float) -> None:
        self.edits += 1
        self.queued = True
        if not self.parked:
            self.schedule_pass(now + DEBOUNCE_S)
        self.simulation.at(now + self._until_next_commit(), self.commit)

    def poll(self, now: float) -> None:
        self.needs_merge = True
        self.schedule_pass(now)
        self.simulation.at(now + POLL_S, self.poll)

    def merge(self, now: float) -> None:
        self.needs_merge = False
        label = "sign-in page" if self.cursor is None else "poll page"
        while True:
            query = "" if self.cursor is None else f"since={self.cursor}"
            response, page = self.simulation.request(label, now, "GET", self.device.cookie, query)
            if response.status == 410:
                self.cursor = None
                continue
            if response.status != 200:
                return
            for change in page["changes"]:
                if not (change["id"] == self.device.open_project and self.queued):  # a queued project: the push decides
                    self.revisions[change["id"]] = change["revision"]
            self.cursor = page["cursor"]
            if not page["more"]:
                return

    def push(self, now: float) -> None:
        project = self.device.open_project
        data = f'{{"edit": {self.edits}, ' + payload(self.device.seed)[1:]
        item = _change(project, data, self.revisions[project], "edited")
        response, answer = self.simulation.request("push", now, "POST", self.device.cookie, body=_changes_body([item]))
        if response.status == 429:
            self.schedule_pass(now + int(response.headers.get("retry-after", "1")))
            return
        if response.status != 200:
            return
        result = answer["results"][0]
        if result["status"] == 200:
            self.revisions[project], self.queued = result["revision"], False
        elif result["status"] == 409:  # conflict-policy.js: parked until the user answers
            self.parked = True
            server_revision = result["server"]["revision"]
            answer_at = now + self.chance.uniform(*ANSWER_CONFLICT_S)
            self.simulation.at(answer_at, lambda at: self.answer(at, server_revision))

    def answer(self, now: float, server_revision: int) -> None:
        self.parked = False
        self.revisions[self.device.open_project] = server_revision
        keep_mine = self.chance.random() < 0.5
        self.queued = keep_mine
        if keep_mine:
            self.schedule_pass(now)


def run_worker(devices: list[Device], options: argparse.Namespace, barrier, results) -> None:
    logging.getLogger(LOGGER).setLevel(logging.ERROR)
    simulation = Simulation(started=0.0, deadline=float("inf"), budget=options.max_requests // options.processes)
    for device in devices[:1]:  # warm: each handler's connection exists before the window opens
        simulation.handlers["GET"](_event("GET", "/api/changes", device.cookie, "limit=1"), None)
        simulation.handlers["POST"](_event("POST", "/api/changes", device.cookie, body='{"changes": []}'), None)
    barrier.wait()  # the parent resets the accounting
    barrier.wait()
    started, cpu = time.monotonic(), time.process_time()
    simulation.started, simulation.deadline = started, started + options.duration
    simulation.samples.clear()
    for device in devices:
        Editor(device, simulation, started)
    simulation.run()
    results.put(WorkerResult(simulation.samples, time.process_time() - cpu, time.monotonic() - started))
    barrier.wait()  # the parent reads the backends' CPU while their connections are still open


# ---------------------------------------------------------------- Postgres' accounting

STATEMENT_STATS = """
SELECT queryid, query, calls, total_plan_time, total_exec_time, shared_blks_hit + shared_blks_read,
       shared_blks_dirtied, rows, wal_bytes
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%%pg_stat%%'
"""
# A backend's last statement (pg_stat_activity keeps only the first 1 KB of its text, so by its id).
BACKEND_STATEMENTS = """
SELECT pid, query_id FROM pg_stat_activity
WHERE backend_type = 'client backend' AND datname = current_database() AND pid <> pg_backend_pid()
"""


def _shape(sql: str) -> str:
    """A statement with comments, parameters and constants taken out: what pg_stat_statements keeps of
    it (it writes constants as $n) and what the store sends (psycopg's %(name)s) compare equal."""
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"\bextract\(\s*\w+", "extract(?", sql, flags=re.I)  # its field is a constant too
    sql = re.sub(r"%\(\w+\)s|\$\d+|'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\b(?:true|false|null)\b", "?", sql, flags=re.I)
    return re.sub(r"\s+", "", sql)


STATEMENT_SHAPES = {_shape(sql): name for name, sql in STATEMENTS.items()}


def statement_name(query: str | None) -> str:
    return STATEMENT_SHAPES.get(_shape(query or ""), "other")


@dataclass
class StatementCost:
    calls: int = 0
    plan_ms: float = 0.0
    exec_ms: float = 0.0
    buffers: int = 0
    dirtied: int = 0
    rows: int = 0
    wal_bytes: int = 0
    backend_cpu_ms: float = 0.0


@dataclass
class Accounting:
    statements: dict[str, StatementCost] = field(default_factory=lambda: defaultdict(StatementCost))
    server_cpu_ms: float = 0.0


def read_accounting(observer: psycopg.Connection, cpu_before: dict[int, int], server_before: int) -> Accounting:
    accounting = Accounting(server_cpu_ms=(server_cpu_ns(observer) - server_before) / 1e6)
    names = {}
    for queryid, query, calls, plan, execution, buffers, dirtied, rows, wal in observer.execute(STATEMENT_STATS):
        names[queryid] = statement_name(query)
        cost = accounting.statements[names[queryid]]
        cost.calls += calls
        cost.plan_ms += plan
        cost.exec_ms += execution
        cost.buffers += buffers
        cost.dirtied += dirtied
        cost.rows += rows
        cost.wal_bytes += int(wal)
    backends = dict(observer.execute(BACKEND_STATEMENTS).fetchall())
    for pid, ran in backend_cpu_ns(observer, list(backends)).items():
        # Each function's connection sends its own statement: a backend's last one names its route.
        accounting.statements[names.get(backends[pid], "other")].backend_cpu_ms += (ran - cpu_before.get(pid, 0)) / 1e6
    return accounting


# ---------------------------------------------------------------- the run and its tables


def run(options: argparse.Namespace) -> tuple[list[WorkerResult], Accounting, float, list[Device]]:
    database_url = os.environ.get("BENCH_DATABASE_URL") or start_postgres_with_statement_stats()
    prepare_schema(database_url)
    os.environ.update(DATABASE_URL=database_url, BETTER_AUTH_SECRET=LOCAL_ONLY_SECRET)
    observer = psycopg.connect(database_url, autocommit=True)
    observer.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    devices = create_population(database_url, options)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(options.processes + 1, timeout=options.duration + 300), context.Queue()
    workers = [
        context.Process(target=run_worker, args=(devices[index :: options.processes], options, barrier, results))
        for index in range(options.processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    observer.execute("SELECT pg_stat_statements_reset()")
    cpu_before, server_before = backend_cpu_ns(observer), server_cpu_ns(observer)
    barrier.wait()
    started = time.monotonic()
    outcomes = [results.get(timeout=options.duration + 300) for _ in workers]
    window = time.monotonic() - started
    accounting = read_accounting(observer, cpu_before, server_before)
    barrier.wait()
    for worker in workers:
        worker.join()
    return outcomes, accounting, window, devices


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(values: list[float]) -> str:
    return " | ".join(f"{percentile(values, share):.1f}" for share in (0.5, 0.95, 0.99))


def report(outcomes: list[WorkerResult], accounting: Accounting, window: float, options, devices) -> str:
    samples = [sample for outcome in outcomes for sample in outcome.samples]
    by_label: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_label[sample.label].append(sample)
    second_devices = sum(device.long_pause_share == SECOND_DEVICE_LONG_PAUSE_SHARE for device in devices)
    lines = [
        f"{len(devices)} editors ({len(devices) - second_devices} users, {second_devices} of them on a second "
        f"device), {options.processes} worker processes, {window:.1f} s, {len(samples)} requests: "
        f"{len(samples) / window:.1f} requests/s; debounce {DEBOUNCE_S:g} s, poll {POLL_S:g} s (client/src/engine.js)",
        "",
        "| request | requests | answers (status/item status) | mean (ms) | p50 (ms) | p95 (ms) | p99 (ms) "
        "| in Postgres, request log (ms, mean) | handler CPU (ms, mean) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, group in [*sorted(by_label.items()), ("all", samples)]:
        answers = Counter(f"{s.status}" + (f"/{s.item_status}" if s.item_status else "") for s in group)
        lines.append(
            f"| {label} | {len(group)} | {', '.join(f'{k}: {v}' for k, v in sorted(answers.items()))} "
            f"| {statistics.fmean(s.duration_ms for s in group):.1f} | {spread([s.duration_ms for s in group])} "
            f"| {statistics.fmean(s.postgres_ms for s in group):.2f} "
            f"| {statistics.fmean(s.handler_cpu_ms for s in group):.2f} |"
        )
    lines += ["", *load_lines(outcomes, samples, accounting, window, options)]
    lines += ["", *statement_lines(samples, accounting)]
    lines += ["", *model_lines(by_label, accounting, len(devices), window, options)]
    return "\n".join(lines)


def load_lines(outcomes, samples: list[Sample], accounting: Accounting, window: float, options) -> list[str]:
    backends = sum(cost.backend_cpu_ms for cost in accounting.statements.values()) / 1000
    return [
        f"schedule lag (a request started late: its environment was busy), p50 / p95 / p99: "
        f"{spread([s.lag_ms for s in samples])} ms; after the {options.ramp:g} s of sign-ins: "
        f"{spread([s.lag_ms for s in samples if s.due_s > options.ramp])} ms",
        f"in Postgres per request (request log: the statement's round trip, commit included), p50 / p95 / p99: "
        f"{spread([s.postgres_ms for s in samples])} ms",
        f"CPU over the window: load generator processes {sum(o.cpu_s for o in outcomes):.1f} s (in the handlers "
        f"{sum(s.handler_cpu_ms for s in samples) / 1000:.1f} s), Postgres {accounting.server_cpu_ms / 1000:.1f} s "
        f"(client backends {backends:.1f} s), of {2 * window:.0f} s on 2 cores",
    ]


def statement_lines(samples: list[Sample], accounting: Accounting) -> list[str]:
    lines = [
        "| statement | calls | plan + exec (ms, total) | exec (ms, mean) | plan (ms, mean) | shared buffers / call "
        "| dirtied / call | rows / call | WAL (bytes / call) | backend CPU (ms, total) | backend CPU / request (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    requests_of = Counter(ROUTE_STATEMENT[s.label] for s in samples)
    for name, cost in sorted(accounting.statements.items(), key=lambda item: -item[1].exec_ms):
        calls = max(cost.calls, 1)
        per_request = cost.backend_cpu_ms / requests_of[name] if requests_of[name] else float("nan")
        lines.append(
            f"| {name} | {cost.calls} | {cost.plan_ms + cost.exec_ms:.0f} | {cost.exec_ms / calls:.3f} "
            f"| {cost.plan_ms / calls:.3f} | {cost.buffers / calls:.1f} | {cost.dirtied / calls:.2f} "
            f"| {cost.rows / calls:.2f} | {cost.wal_bytes / calls:.0f} | {cost.backend_cpu_ms:.0f} "
            f"| {per_request:.3f} |"
        )
    unmatched = accounting.statements["other"].calls - 2  # the observer's two SHOW data_directory
    if unmatched > 0:
        lines.append(f"\n{unmatched} statement calls matched no statement of the store: teach _shape their form")
    return lines


def model_lines(by_label, accounting: Accounting, editors: int, window: float, options) -> list[str]:
    """Postgres' time per request type and per active editor per minute (docs/capacity.md's model).

    Rates are counted once every editor signed in and polls (the window's last part); a sign-in's
    pages come once a session. A statement serving two request types (the feed's pages) is split
    between them by their time in Postgres as the request log measured it."""
    steady_from = options.ramp + POLL_S
    steady_minutes = (window - steady_from) / 60
    per_minute = {
        label: sum(s.due_s >= steady_from for s in group) / editors / steady_minutes
        for label, group in by_label.items()
    }
    per_minute["sign-in page"] = len(by_label["sign-in page"]) / editors / options.session_minutes
    lines = [
        "| request | Postgres CPU / request (ms) | plan + exec / request (ms) | per active editor per minute |",
        "|---|---:|---:|---:|",
    ]
    cpu_per_minute = statement_per_minute = 0.0
    for label, group in sorted(by_label.items()):
        statement = ROUTE_STATEMENT[label]
        logged = {other: sum(s.postgres_ms for s in by_label[other]) for other in by_label}
        share = logged[label] / sum(logged[other] for other in by_label if ROUTE_STATEMENT[other] == statement)
        cost = accounting.statements[statement]
        cpu, spent = cost.backend_cpu_ms * share / len(group), (cost.plan_ms + cost.exec_ms) * share / len(group)
        cpu_per_minute += cpu * per_minute[label]
        statement_per_minute += spent * per_minute[label]
        lines.append(f"| {label} | {cpu:.3f} | {spent:.3f} | {per_minute[label]:.3f} |")
    requests_per_minute = sum(per_minute.values())
    lines += [
        f"| **per active editor per minute** (a sign-in each {options.session_minutes:g}-minute session) "
        f"| **{cpu_per_minute:.2f}** | **{statement_per_minute:.2f}** | **{requests_per_minute:.3f}** |",
        "",
        f"the mix's Postgres CPU per request: {cpu_per_minute / requests_per_minute:.2f} ms "
        f"(after {steady_from:g} s: every editor signed in and polling)",
    ]
    return lines


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--editors", type=int, default=200, help="simulated devices (default 200)")
    parser.add_argument("--processes", type=int, default=4, help="worker processes (default 4)")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load (default 120)")
    parser.add_argument("--max-requests", type=int, default=40_000, help="stop after this many (default 40000)")
    parser.add_argument("--ramp", type=float, default=30, help="editors sign in over this many seconds")
    parser.add_argument("--two-device-share", type=float, default=0.1, help="share of editors on a second device")
    parser.add_argument("--projects", type=int, nargs=2, default=(5, 40), help="projects per user, min max")
    parser.add_argument("--session-minutes", type=float, default=30, help="the model's sign-ins: one a session")
    parser.add_argument("--seed", type=int, default=16)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    load_before = os.getloadavg()
    outcomes, accounting, window, devices = run(options)
    print(report(outcomes, accounting, window, options, devices))
    print(f"\nload average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
