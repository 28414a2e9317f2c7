"""The rate-limit events consumer: SQS batches in, per-user escalation in Postgres.

Each event is one statement: record it once (its id is the key, so a redelivered message counts
once), count the user's recent write throttles, and block the user's writes when they reach the
threshold. The block is a row the request path's limiter already reads; it lifts when its time passes.
A message that is not a valid event fails alone (partial batch response) and ends in the DLQ.
"""

from collections.abc import Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from sync_core.adapters.logs import with_lambda_context
from sync_core.adapters.postgres import Database
from sync_core.domain.limits import Escalation, LimitEvent

logger = Logger(service="appframes-sync-rate-limits")

# Strikes are write throttles inside the window and after the user's last block ended, so the
# throttles a blocked client collects while blocked never chain into the next block.
RECORD_EVENT = """
WITH known_user AS (
    SELECT id FROM public."user" WHERE id = %(user_id)s
),
recorded AS (
    INSERT INTO public.rate_limit_events (id, "userId", kind, scope, "occurredAt")
    SELECT %(event_id)s, id, %(kind)s, %(scope)s, %(occurred_at)s FROM known_user
    ON CONFLICT (id) DO NOTHING
    RETURNING "occurredAt"
),
last_block AS (
    SELECT "blockedUntil" FROM public.rate_limit_blocks WHERE "userId" = %(user_id)s AND scope = 'write'
),
since AS (
    SELECT greatest(
        now() - make_interval(secs => %(window_seconds)s),
        coalesce((SELECT "blockedUntil" FROM last_block), '-infinity')
    ) AS moment
),
strikes AS (
    SELECT
        (SELECT count(*) FROM public.rate_limit_events, since
         WHERE "userId" = %(user_id)s AND kind = 'throttled' AND scope = 'write' AND "occurredAt" > since.moment)
        + (SELECT count(*) FROM recorded, since
           WHERE %(kind)s = 'throttled' AND %(scope)s = 'write' AND recorded."occurredAt" > since.moment)
        AS throttles
),
blocked AS (
    INSERT INTO public.rate_limit_blocks AS block ("userId", scope, "blockedUntil")
    SELECT %(user_id)s, 'write', now() + make_interval(secs => %(block_seconds)s)
    FROM strikes
    WHERE EXISTS (SELECT FROM recorded) AND strikes.throttles >= %(throttles_to_block)s
    ON CONFLICT ("userId", scope) DO UPDATE SET "blockedUntil" = excluded."blockedUntil"
        WHERE block."blockedUntil" <= now()
    RETURNING "blockedUntil"
),
forgotten AS (
    DELETE FROM public.rate_limit_events
    WHERE "userId" = %(user_id)s AND "occurredAt" < now() - make_interval(secs => %(retention_seconds)s)
)
SELECT EXISTS (SELECT FROM recorded) AS counted, (SELECT "blockedUntil" FROM blocked) AS blocked_until
"""


def build_consumer(database: Database, escalation: Escalation) -> Callable[[dict, object], dict]:
    # A batch whose every record failed is reported like any other (each to be retried, then DLQ),
    # rather than raised: one poison message alone in a batch is not an outage.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        event = LimitEvent.from_json(record.body)
        recorded = database.fetch_row(RECORD_EVENT, _parameters(event, escalation))
        if recorded["blocked_until"] is not None:
            until = recorded["blocked_until"].isoformat()
            logger.warning("writes blocked", extra={"user_id": event.user_id, "until": until})
        elif not recorded["counted"]:
            logger.info("limit event already counted or for an unknown user", extra={"event_id": str(event.id)})

    def handler(event: dict, context: object) -> dict:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return with_lambda_context(handler, logger)


def _parameters(event: LimitEvent, escalation: Escalation) -> dict:
    return {
        "event_id": event.id,
        "user_id": event.user_id,
        "kind": event.kind.value,
        "scope": event.scope.value,
        "occurred_at": event.occurred_at,
        "window_seconds": escalation.window_seconds,
        "block_seconds": escalation.block_seconds,
        "throttles_to_block": escalation.throttles_to_block,
        "retention_seconds": 2 * max(escalation.window_seconds, escalation.block_seconds),
    }
