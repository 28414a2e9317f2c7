"""Limit hooks: SQS (the default, feeding the escalation consumer) and a structured log line.

A hook's `publish` only buffers; `flush` runs after the response of a request that published
something, so the network wait falls on throttled or abusive requests, never on the normal path.
"""

import time
from collections.abc import Callable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from sync_core.domain.limits import LimitEvent

SQS_MAX_BATCH = 10


class SqsLimitHook:
    """Sends events to the rate-limit queue in batches of up to 10 (one SendMessageBatch call each).

    Events are advisory: if SQS is unreachable they are logged and dropped, and the request's own
    answer (already decided) is unaffected.
    """

    def __init__(self, queue_url: str, sqs_client: Callable[[], object], logger: Logger):
        self._queue_url = queue_url
        self._sqs_client = sqs_client
        self._client = None
        self._logger = logger
        self._buffer: list[LimitEvent] = []

    def publish(self, event: LimitEvent) -> None:
        self._buffer.append(event)

    def flush(self) -> None:
        events, self._buffer = self._buffer, []
        for start in range(0, len(events), SQS_MAX_BATCH):
            self._send([*events[start : start + SQS_MAX_BATCH]])

    def _send(self, batch: list[LimitEvent]) -> None:
        entries = [{"Id": str(index), "MessageBody": event.to_json()} for index, event in enumerate(batch)]
        started = time.perf_counter()
        try:
            self._client = self._client or self._sqs_client()
            answer = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except Exception:
            self._logger.exception("limit events not sent to SQS", extra={"events": len(batch)})
            return
        if answer.get("Failed"):
            self._logger.warning("SQS refused limit events", extra={"failed": answer["Failed"]})
        elapsed_ms = (time.perf_counter() - started) * 1000
        self._logger.debug("limit events sent", extra={"events": len(batch), "ms": elapsed_ms})


class LogLimitHook:
    """One structured log line per event, for dashboards and alarms on log metrics."""

    def __init__(self, logger: Logger):
        self._logger = logger

    def publish(self, event: LimitEvent) -> None:
        self._logger.info(
            "rate limit event",
            extra={"limit_event": event.kind.value, "user_id": event.user_id, "scope": event.scope.value},
        )

    def flush(self) -> None:
        pass


class MetricsLimitHook:
    """A CloudWatch metric per event kind (`RateLimitThrottled`, ...) in embedded metric format:
    written to the log on flush, so it costs no network call either."""

    def __init__(self, metrics: Metrics):
        self._metrics = metrics

    def publish(self, event: LimitEvent) -> None:
        name = "RateLimit" + "".join(part.title() for part in event.kind.value.split("_"))
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)

    def flush(self) -> None:
        self._metrics.flush_metrics()


def sqs_client_factory(region: str | None) -> Callable[[], object]:
    def create():
        import boto3  # imported on first use: the normal path never pays for it
        from botocore.config import Config

        # The request waits for the flush, so SQS gets one short try: events are advisory.
        quick = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1})
        return boto3.client("sqs", region_name=region, config=quick)

    return create
