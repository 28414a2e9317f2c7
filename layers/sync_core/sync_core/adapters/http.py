"""HTTP adapter: the four project routes, each on its own router, and the one status-code table.

A Lambda function builds an app from the one router it serves; the local server builds one from
all four. Routes are `async def`: the blocking psycopg call is deliberate, since a Lambda
environment serves one request at a time and a thread-pool hop per request costs more.
"""

import uuid
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from sync_core.adapters.limit_hooks import LogLimitHook, MetricsLimitHook, SqsLimitHook, sqs_client_factory
from sync_core.adapters.postgres import Database, connector
from sync_core.adapters.projects_sql import PostgresProjectsStore
from sync_core.adapters.secrets import better_auth_secret
from sync_core.adapters.settings import Settings, load_settings
from sync_core.domain import projects
from sync_core.domain.errors import (
    DatabaseUnavailable,
    InvalidField,
    InvalidRequest,
    PayloadTooLarge,
    ProjectNotFound,
    RateLimited,
    RevisionConflict,
    SyncError,
    Unauthenticated,
    WriteRaced,
)
from sync_core.domain.limits import Bucket, LimitHooks, RateLimits
from sync_core.domain.session import SessionPolicy, session_token

logger = Logger(service="appframes-sync")

STATUS_BY_ERROR: dict[type[SyncError], int] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    ProjectNotFound: 404,
    RevisionConflict: 409,
    PayloadTooLarge: 413,
    InvalidField: 422,
    RateLimited: 429,
    DatabaseUnavailable: 503,
    WriteRaced: 503,
}
JSON = "application/json"


@dataclass(frozen=True)
class Services:
    """What the routes use, built once per execution environment."""

    store: projects.ProjectsStore
    session_policy: SessionPolicy
    max_body_bytes: int
    hooks: LimitHooks


def services_from(settings: Settings) -> Services:
    hooks = limit_hooks_from(settings)
    return Services(
        store=PostgresProjectsStore(Database(connector(settings)), rate_limits_from(settings), hooks),
        session_policy=SessionPolicy(
            secret=better_auth_secret(settings),
            cookie_prefix=settings.better_auth_cookie_prefix,
            allow_unsigned_bearer=settings.better_auth_allow_unsigned_bearer,
        ),
        max_body_bytes=settings.max_body_bytes,
        hooks=hooks,
    )


def rate_limits_from(settings: Settings) -> RateLimits:
    return RateLimits(
        read=Bucket(settings.rate_limit_read_per_minute, settings.rate_limit_read_burst),
        write=Bucket(settings.rate_limit_write_per_minute, settings.rate_limit_write_burst),
        enabled=settings.rate_limits_enabled,
        soft_threshold=settings.rate_limit_soft_threshold,
    )


def limit_hooks_from(settings: Settings) -> LimitHooks:
    hooks = [LogLimitHook(logger)]
    if settings.powertools_metrics_namespace:
        hooks.append(MetricsLimitHook(Metrics(namespace=settings.powertools_metrics_namespace)))
    if settings.rate_limit_events_queue_url:
        client = sqs_client_factory(settings.aws_region)
        hooks.append(SqsLimitHook(settings.rate_limit_events_queue_url, client, logger))
    return LimitHooks(hooks)


def build_app(*routers: APIRouter, services: Services | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    # No slash redirects: Starlette builds their Location from the request's Host header.
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
    app.state.services = services or services_from(settings)
    app.add_middleware(FlushLimitHooks, hooks=app.state.services.hooks)
    for router in routers:
        app.include_router(router)
    app.add_exception_handler(SyncError, _sync_error_response)
    app.add_exception_handler(HTTPException, _http_error_response)
    app.add_exception_handler(RequestValidationError, _validation_error_response)
    app.add_exception_handler(Exception, _unexpected_error_response)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Retry-After"],
        )
    return app


list_projects = APIRouter()
get_project = APIRouter()
put_project = APIRouter()
delete_project = APIRouter()


# Each route reads the request in admission order: the credentials and their signature first (no
# Postgres), then the rest of the request line and headers (no Postgres), then the body; the session
# and the limiter are asked in the statement, before it looks at the body. HEAD is answered as GET
# is (the server in front drops the body).


@list_projects.get("/api/projects")
@list_projects.head("/api/projects")
async def list_projects_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    include_deleted = _flag(request.query_params.get("includeDeleted"), "includeDeleted")
    listing = services.store.list_projects(token, include_deleted=include_deleted)
    return Response(listing, media_type=JSON, headers={"Cache-Control": "private, no-cache"})


@get_project.get("/api/projects/{project_id}")
@get_project.head("/api/projects/{project_id}")
async def get_project_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    cached = projects.cached_revisions(request.headers.get("if-none-match"))
    found = services.store.get_project(token, project_uuid, cached)
    headers = {"ETag": projects.entity_tag(found.revision), "Cache-Control": "private, no-cache"}
    if isinstance(found, projects.NotModified):
        return Response(status_code=304, headers=headers)
    return Response(found.json_text, media_type=JSON, headers=headers)


@put_project.put("/api/projects/{project_id}")
async def put_project_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    write = projects.ProjectWrite(body=await _body(request, token), fallback_write_id=uuid.uuid4())
    receipt = services.store.put_project(token, project_uuid, write)
    return Response(receipt.json_text, media_type=JSON, headers={"ETag": projects.entity_tag(receipt.revision)})


@delete_project.delete("/api/projects/{project_id}")
async def delete_project_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    if_match = projects.if_match_revision(request.headers.get("if-match"))
    deletion = projects.ProjectDeletion(body=await _body(request, token), if_match_revision=if_match)
    tombstone = services.store.delete_project(token, project_uuid, deletion)
    return Response(tombstone.json_text, media_type=JSON, headers={"ETag": projects.entity_tag(tombstone.revision)})


def _project_id(request: Request) -> uuid.UUID:
    # Read from the path rather than declared as a parameter: a declared one makes FastAPI build a
    # pydantic field for it at import, which costs the cold start ~20 ms for a string we parse anyway.
    return projects.parse_project_id(request.path_params["project_id"])


def _services(request: Request) -> Services:
    return request.app.state.services


def _session_token(request: Request) -> str:
    return session_token(
        _services(request).session_policy,
        authorization=request.headers.get("authorization"),
        cookie_header=request.headers.get("cookie"),
    )


async def _body(request: Request, token: str) -> bytes:
    """The body, read with a running count and refused (413) the moment it passes MAX_BODY_BYTES, chunked
    or not, without reading the rest. The session and the limiter are asked first: a refused oversized
    body is answered 401 or 429 when those say no, and spends its token."""
    services = _services(request)
    try:
        declared = request.headers.get("content-length", "")
        if declared.isdigit():
            projects.check_body_size(int(declared), services.max_body_bytes)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            projects.check_body_size(len(body), services.max_body_bytes, complete=False)
    except PayloadTooLarge:
        services.store.report_body_too_large(token)
        raise
    return bytes(body)


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


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise InvalidRequest(f"{name} must be 1 or 0")


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


async def _sync_error_response(request: Request, error: SyncError) -> Response:
    status = STATUS_BY_ERROR[type(error)]
    if isinstance(error, RevisionConflict):
        return Response(error.body, status_code=status, media_type=JSON)
    headers = {} if error.retry_after_seconds is None else {"Retry-After": str(error.retry_after_seconds)}
    return JSONResponse(error_body(error.code, error.message), status_code=status, headers=headers)


async def _http_error_response(request: Request, error: HTTPException) -> Response:
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code, headers=error.headers)


async def _validation_error_response(request: Request, error: RequestValidationError) -> Response:
    return JSONResponse(error_body("invalid_request", str(error.errors())), status_code=422)


async def _unexpected_error_response(request: Request, error: Exception) -> Response:
    logger.exception("unexpected error", extra={"path": request.url.path, "method": request.method})
    return JSONResponse(error_body("internal_error", "the server failed; the request was not applied"), status_code=500)
