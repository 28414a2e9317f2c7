"""What Postgres does for each statement a request sends: its executed plan, and how many bodies it parsed.

Each statement is first run under EXPLAIN ANALYZE on a connection of its own, in a transaction rolled
back, then run for real: the request's answer and the database's state are what they would have been.
EXPLAIN cannot see into a function: for PUT's call of public.put_project_v1 it explains the function's
query, PUT_PROJECT_QUERY (a unit test keeps the two equal), planned for the values sent. That plan folds
more than the function's generic plan can, which never folds a parameter.
"""

import json
from dataclasses import dataclass, field

import psycopg

from sync_core.adapters.postgres import Database, connector
from sync_core.adapters.projects_sql import PUT_PROJECT, PUT_PROJECT_QUERY

SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Function Scan", "Tid Scan"}
EXPLAIN = "EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) "
# The statement explained for each call of a function that runs it.
EXPLAINED_IN_STEAD = {PUT_PROJECT: PUT_PROJECT_QUERY}
# Calls of the functions that read a body first: parse_request_body (DELETE's; PUT's parse_write_fields
# reads the fields with it), parse_write_body (PUT's body read whole, which hands a body it refuses to
# parse_request_body) and parse_changes_body_as_json (the batch's).
PARSE_CALLS = """
SELECT coalesce(pg_stat_get_xact_function_calls('public.parse_write_body(bytea)'::regprocedure), 0)
    + coalesce(pg_stat_get_xact_function_calls('public.parse_request_body(bytea)'::regprocedure), 0)
    + coalesce(pg_stat_get_xact_function_calls('public.parse_changes_body_as_json(bytea)'::regprocedure), 0)
"""


@dataclass
class Execution:
    scans: list[tuple[str, str]] = field(default_factory=list)  # (node type, relation or function) run at least once
    bodies_parsed: int = 0  # calls of the parse functions while executing
    # A body the planner turned into a jsonb constant: parsed before anything ran, the admission included.
    parsed_while_planning: bool = False
    error: str | None = None  # what Postgres raised, planning or executing


class ExplainedDatabase(Database):
    def __init__(self, settings):
        super().__init__(connector(settings))
        self._explaining = connector(settings)()
        self.executions: list[Execution] = []

    def fetch_rows(self, sql, params):
        self.executions.append(self._explain(EXPLAINED_IN_STEAD.get(sql, sql), params))
        return super().fetch_rows(sql, params)

    def _explain(self, sql, params) -> Execution:
        with self._explaining.transaction(force_rollback=True):
            self._explaining.execute("SET LOCAL track_functions = 'pl'")
            # A delta: the backend keeps its pending call counts past a transaction until it flushes them.
            parsed_before = self._explaining.execute(PARSE_CALLS).fetchone()[0]
            try:
                with self._explaining.transaction():
                    plan = self._explaining.execute(EXPLAIN + sql, params).fetchone()[0]
            except psycopg.Error as error:
                return Execution(error=error.diag.message_primary)
            parsed = self._explaining.execute(PARSE_CALLS).fetchone()[0] - parsed_before
        return Execution(
            scans=_executed_scans(plan[0]["Plan"]),
            bodies_parsed=parsed,
            parsed_while_planning="'::jsonb" in json.dumps(plan),
        )


def _executed_scans(node: dict) -> list[tuple[str, str]]:
    own = []
    if node["Node Type"] in SCANS and node.get("Actual Loops", 0) > 0:
        own.append((node["Node Type"], node.get("Relation Name") or node.get("Function Name", "")))
    return own + [scan for child in node.get("Plans", []) for scan in _executed_scans(child)]
