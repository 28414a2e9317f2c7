"""The ASGI app a Lambda function (one router) or the local server (every router) serves: a Starlette app
in a function (FastAPI stays out of its cold start), the local server's FastAPI."""

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.routing import Router

from sync_core.adapters.http.encoding import GzipAnswers
from sync_core.adapters.http.errors import add_error_handlers
from sync_core.adapters.http.request_log import RequestLog
from sync_core.adapters.http.routes import Services
from sync_core.domain.limits import LimitHooks


def build_app(*routers: Router, services: Services, framework: Callable[..., Starlette] | None = None) -> Starlette:
    app = (framework or Starlette)(routes=[route for router in routers for route in router.routes])
    # No slash redirects: Starlette builds their Location from the request's Host header.
    app.router.redirect_slashes = False
    app.state.services = services
    app.add_middleware(FlushLimitHooks, hooks=services.hooks)
    app.add_middleware(GzipAnswers, minimum_bytes=services.answer_gzip_min_bytes)
    # Outside the encoding, so a HEAD's headers are the GET's, Content-Length and Content-Encoding included.
    app.add_middleware(HeadAnswers)
    # Outermost of the API's own: it counts the bytes as they leave, compressed or not.
    app.add_middleware(RequestLog)
    add_error_handlers(app)
    return app


class FlushLimitHooks:
    """After a request that published limit events, hand them to the hooks' network side.

    Plain ASGI rather than BaseHTTPMiddleware: on the normal path it costs one attribute check.
    """

    def __init__(self, app, hooks: LimitHooks):
        self.app = app
        self.hooks = hooks

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if self.hooks.pending:
                self.hooks.flush()


class HeadAnswers:
    """A HEAD is answered as the GET would be, headers and all, but its body is dropped here: neither
    the Lambda response nor the local server carries bytes that HTTP forbids a HEAD answer to send."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_headers_only)
