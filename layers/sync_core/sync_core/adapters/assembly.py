"""Every function's parts, assembled from settings once per execution environment: the API's app and
its services, the limit-events consumer, the migrations handler, the tombstone and history purges.

`database` is the seam: tests hand in a Database of their own (traced, explained) and get everything
else exactly as a function builds it. Each builder imports its own adapters, so a function's cold start
pays only for what it runs (the consumer and the migrations function never import Starlette).
"""

from collections.abc import Callable
from pathlib import Path

from sync_core.adapters.postgres import Database, connector
from sync_core.adapters.settings import (
    ApiSettings,
    ConsumerSettings,
    DatabaseSettings,
    HistoryPurgeSettings,
    TombstonePurgeSettings,
    load_settings,
)
from sync_core.domain.limits import Bucket, Escalation, LimitHooks, RateLimits, StorageQuota


def api_app(*routers, settings: ApiSettings | None = None, database: Database | None = None, framework=None):
    """The ASGI app serving `routers` over the services these settings make (a Starlette app, or what
    `framework` makes: the local server's FastAPI)."""
    from sync_core.adapters.http.app import build_app
    from sync_core.adapters.memory import keep_freed_memory

    keep_freed_memory()
    settings = settings or load_settings(ApiSettings)
    return build_app(*routers, services=api_services(settings, database), framework=framework)


def api_services(settings: ApiSettings, database: Database | None = None):
    from sync_core.adapters.http.routes import Services
    from sync_core.adapters.projects_sql import PostgresProjectsStore
    from sync_core.adapters.secrets import better_auth_secret
    from sync_core.domain.session import SessionPolicy

    hooks = limit_hooks_from(settings)
    database = database or Database(connector(settings))
    return Services(
        store=PostgresProjectsStore(
            database,
            rate_limits_from(settings),
            hooks,
            storage_quota_from(settings),
        ),
        session_policy=SessionPolicy(
            secret=better_auth_secret(settings),
            cookie_prefix=settings.better_auth_cookie_prefix,
            allow_unsigned_bearer=settings.better_auth_allow_unsigned_bearer,
        ),
        max_body_bytes=settings.max_body_bytes,
        answer_gzip_min_bytes=settings.answer_gzip_min_bytes,
        hooks=hooks,
    )


def rate_limits_from(settings: ApiSettings) -> RateLimits:
    return RateLimits(
        read=Bucket(settings.rate_limit_read_per_minute, settings.rate_limit_read_burst),
        write=Bucket(settings.rate_limit_write_per_minute, settings.rate_limit_write_burst),
        write_bytes=Bucket(settings.rate_limit_write_bytes_per_minute, settings.rate_limit_write_bytes_burst),
        enabled=settings.rate_limits_enabled,
        soft_threshold=settings.rate_limit_soft_threshold,
    )


def storage_quota_from(settings: ApiSettings) -> StorageQuota:
    return StorageQuota(settings.quota_bytes_per_user, settings.quota_projects_per_user)


def limit_hooks_from(settings: ApiSettings) -> LimitHooks:
    """Where limit events go: a log line always, CloudWatch metrics on a deployed stage, SQS when a queue is set.
    A new hook is added here; the endpoints do not change."""
    from aws_lambda_powertools import Metrics

    from sync_core.adapters.limit_hooks import LogLimitHook, MetricsLimitHook, SqsLimitHook, sqs_client_factory
    from sync_core.adapters.logs import logger

    hooks = [LogLimitHook(logger)]
    if settings.powertools_metrics_namespace:
        hooks.append(MetricsLimitHook(Metrics(namespace=settings.powertools_metrics_namespace)))
    if settings.rate_limit_events_queue_url:
        client = sqs_client_factory(settings.aws_region)
        hooks.append(SqsLimitHook(settings.rate_limit_events_queue_url, client, logger))
    return LimitHooks(hooks)


def limit_consumer(
    settings: ConsumerSettings | None = None, database: Database | None = None
) -> Callable[[dict, object], dict]:
    """The SQS handler of the rate-limit consumer function."""
    from sync_core.adapters.limit_consumer import build_consumer

    settings = settings or load_settings(ConsumerSettings)
    return build_consumer(database or Database(connector(settings)), escalation_from(settings))


def escalation_from(settings: ConsumerSettings) -> Escalation:
    return Escalation(
        throttles_to_block=settings.rate_limit_throttles_to_block,
        window_seconds=settings.rate_limit_strike_window_seconds,
        block_seconds=settings.rate_limit_block_seconds,
    )


def migrations_handler(migrations_dir: Path) -> Callable[[dict | None, object], dict]:
    """The migrations function's handler, applying (or rolling back) what `migrations_dir` holds."""
    from sync_core.adapters.migrations import build_migrations_handler

    return build_migrations_handler(connector(load_settings(DatabaseSettings)), migrations_dir)


def tombstone_purge(settings: TombstonePurgeSettings | None = None, database: Database | None = None):
    """The purge the scheduled function (and `make purge`) runs."""
    from sync_core.adapters.tombstone_purge import TombstonePurge

    settings = settings or load_settings(TombstonePurgeSettings)
    return TombstonePurge(
        database=database or Database(connector(settings)),
        horizon_days=settings.tombstone_purge_days,
        batch_size=settings.tombstone_purge_batch_size,
        max_batches=settings.tombstone_purge_max_batches,
    )


def tombstone_purge_handler() -> Callable[[dict | None, object], dict]:
    """The tombstone purge's scheduled function."""
    return _scheduled_purge_handler(tombstone_purge(), "tombstone purge")


def _scheduled_purge_handler(purge, name: str) -> Callable[[dict | None, object], dict]:
    """A scheduled purge's handler: one bounded, idempotent run; its report is the answer."""
    from sync_core.adapters.logs import logger, with_lambda_context

    def handler(event: dict | None, context: object) -> dict:
        report = purge.run().as_dict()
        logger.info(name, extra=report)
        return report

    return with_lambda_context(handler)


def history_purge(settings: HistoryPurgeSettings | None = None, database: Database | None = None):
    """The purge the scheduled function (and `make purge-history`) runs."""
    from sync_core.adapters.history_purge import HistoryPurge

    settings = settings or load_settings(HistoryPurgeSettings)
    return HistoryPurge(
        database=database or Database(connector(settings)),
        keep_revisions=settings.history_keep_revisions,
        keep_days=settings.history_keep_days,
        keep_bytes_per_user=settings.history_keep_bytes_per_user,
        batch_size=settings.history_purge_batch_size,
        max_batches=settings.history_purge_max_batches,
    )


def history_purge_handler() -> Callable[[dict | None, object], dict]:
    """The history purge's scheduled function."""
    return _scheduled_purge_handler(history_purge(), "history purge")
