"""How every failure becomes an answer: the one status-code table, and JSON error bodies for what
Starlette raises itself (unknown routes, methods) and for bugs."""

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from sync_core.adapters.logs import logger
from sync_core.domain.errors import (
    CursorExpired,
    DatabaseUnavailable,
    InvalidField,
    InvalidRequest,
    PayloadTooLarge,
    ProjectNotFound,
    QuotaExceeded,
    RateLimited,
    RevisionConflict,
    RevisionNotFound,
    SyncError,
    Unauthenticated,
    UnsupportedEncoding,
    WriteRaced,
)

STATUS_BY_ERROR: dict[type[SyncError], int] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    # Not 413 (a smaller body would not help: a small write is refused too) nor 429 (waiting does not
    # help): the account may not store more until it deletes something.
    QuotaExceeded: 403,
    ProjectNotFound: 404,
    RevisionNotFound: 404,
    RevisionConflict: 409,
    CursorExpired: 410,
    PayloadTooLarge: 413,
    UnsupportedEncoding: 415,
    InvalidField: 422,
    RateLimited: 429,
    DatabaseUnavailable: 503,
    WriteRaced: 503,
}
JSON = "application/json"
INTERNAL_ERROR_MESSAGE = "the server failed; the request was not applied"
# Where an answer's error code is left for the request log line (sync_core.adapters.http.request_log).
ERROR_CODE_KEY = "sync_core.error_code"


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def add_error_handlers(app: Starlette) -> None:
    app.add_exception_handler(SyncError, _sync_error_response)
    app.add_exception_handler(HTTPException, _http_error_response)
    app.add_exception_handler(Exception, _unexpected_error_response)


async def _sync_error_response(request: Request, error: SyncError) -> Response:
    status = STATUS_BY_ERROR[type(error)]
    request.scope[ERROR_CODE_KEY] = error.code
    if isinstance(error, RevisionConflict):
        return Response(error.body, status_code=status, media_type=JSON)
    headers = {} if error.retry_after_seconds is None else {"Retry-After": str(error.retry_after_seconds)}
    return JSONResponse(error_body(error.code, error.message), status_code=status, headers=headers)


async def _http_error_response(request: Request, error: HTTPException) -> Response:
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    request.scope[ERROR_CODE_KEY] = code
    headers = error.headers
    if headers and "Allow" in headers:
        headers = {**headers, "Allow": _allowed_methods(request)}
    return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path's routes take, in one order: Starlette's Allow names only the first route
    that matched the path (GET of /api/projects/{id}, not its PUT and DELETE), from a set."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def _unexpected_error_response(request: Request, error: Exception) -> Response:
    logger.exception("unexpected error", extra={"path": request.url.path, "method": request.method})
    return JSONResponse(error_body("internal_error", INTERNAL_ERROR_MESSAGE), status_code=500)
