"""The service's one structured logger, and the Lambda context on every line a function logs.

Powertools adds the context (cold start, function request id) and takes API Gateway's request id as the
correlation id, so one search finds a request's every line; a non-HTTP event simply has none.
"""

import functools
from collections.abc import Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

logger = Logger(service="appframes-sync")


def with_lambda_context(handler: Callable, log: Logger = logger) -> Callable:
    """`handler`, logging with the invocation's context (keys a previous invocation appended are cleared).

    A local call (the local server, `make invoke`, tests) passes no context, and logs without one.
    """
    in_context = log.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)(
        handler
    )

    @functools.wraps(handler)
    def run(event, context=None):
        return handler(event, context) if context is None else in_context(event, context)

    return run
