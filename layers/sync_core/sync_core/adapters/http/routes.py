"""The project routes, one router per endpoint: a Lambda function serves one, the local server all.

Routes are `async def`: the blocking psycopg call is deliberate, since a Lambda environment serves one
request at a time and a thread-pool hop per request costs more.
"""

import functools
import uuid
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from sync_core.adapters.http.encoding import BodyDecoder
from sync_core.adapters.http.errors import JSON
from sync_core.domain import changes, projects
from sync_core.domain.errors import InvalidRequest, PayloadTooLarge
from sync_core.domain.limits import LimitHooks
from sync_core.domain.session import SessionPolicy, session_token


@dataclass(frozen=True)
class Services:
    """What the routes use, built once per execution environment (sync_core.adapters.assembly)."""

    store: projects.ProjectsStore
    session_policy: SessionPolicy
    max_body_bytes: int
    answer_gzip_min_bytes: int
    hooks: LimitHooks


# Each route reads the request in admission order: the credentials and their signature first (no
# Postgres), then the rest of the request line and headers (no Postgres), then the body; the session
# and the limiter are asked in the statement, before it looks at the body. HEAD is answered as GET
# is, with the GET's headers and no body (app.HeadAnswers).


async def list_projects_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    include_deleted = _flag(request.query_params.get("includeDeleted"), "includeDeleted")
    listing = services.store.list_projects(token, include_deleted=include_deleted)
    return Response(listing, media_type=JSON, headers={"Cache-Control": "private, no-cache"})


async def list_changes_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    since = request.query_params.get("since")
    cursor = None if since is None else changes.parse_cursor(since)
    limit = changes.parse_limit(request.query_params.get("limit"))
    page = services.store.list_changes(token, cursor, limit)
    return Response(page.json_bytes(), media_type=JSON, headers={"Cache-Control": "private, no-cache"})


async def get_project_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    cached = projects.cached_revisions(request.headers.get("if-none-match"))
    found = services.store.get_project(token, project_uuid, cached)
    headers = {"ETag": projects.entity_tag(found.revision), "Cache-Control": "private, no-cache"}
    if isinstance(found, projects.NotModified):
        return Response(status_code=304, headers=headers)
    return Response(found.json_bytes, media_type=JSON, headers=headers)


async def put_project_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    write = projects.ProjectWrite(body=await _body(request, token), fallback_write_id=uuid.uuid4())
    receipt = services.store.put_project(token, project_uuid, write)
    return Response(receipt.json_bytes, media_type=JSON, headers={"ETag": projects.entity_tag(receipt.revision)})


async def delete_project_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    if_match = projects.if_match_revision(request.headers.get("if-match"))
    deletion = projects.ProjectDeletion(body=await _body(request, token), if_match_revision=if_match)
    tombstone = services.store.delete_project(token, project_uuid, deletion)
    return Response(tombstone.json_bytes, media_type=JSON, headers={"ETag": projects.entity_tag(tombstone.revision)})


async def push_changes_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    batch = projects.ChangeBatch(body=await _body(request, token), fallback_write_id=uuid.uuid4())
    return Response(services.store.push_changes(token, batch), media_type=JSON)


async def list_revisions_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    history = services.store.list_revisions(token, project_uuid)
    return Response(history, media_type=JSON, headers={"Cache-Control": "private, no-cache"})


async def get_revision_route(request: Request) -> Response:
    services = _services(request)
    token = _session_token(request)
    project_uuid = _project_id(request)
    revision = projects.parse_revision(request.path_params["revision"])
    cached = projects.cached_revisions(request.headers.get("if-none-match"))
    found = services.store.get_revision(token, project_uuid, revision, cached)
    headers = {"ETag": projects.entity_tag(found.revision), "Cache-Control": "private, no-cache"}
    if isinstance(found, projects.NotModified):
        return Response(status_code=304, headers=headers)
    return Response(found.json_bytes, media_type=JSON, headers=headers)


# One router per endpoint; a GET route answers HEAD too (app.HeadAnswers drops the body). Starlette's
# routes call the function with the request: no dependency solving per request, no FastAPI at cold start.
list_projects_router = Router([Route("/api/projects", list_projects_route, methods=["GET"])])
list_changes_router = Router([Route("/api/changes", list_changes_route, methods=["GET"])])
get_project_router = Router([Route("/api/projects/{project_id}", get_project_route, methods=["GET"])])
put_project_router = Router([Route("/api/projects/{project_id}", put_project_route, methods=["PUT"])])
delete_project_router = Router([Route("/api/projects/{project_id}", delete_project_route, methods=["DELETE"])])
push_changes_router = Router([Route("/api/changes", push_changes_route, methods=["POST"])])
list_revisions_router = Router([Route("/api/projects/{project_id}/revisions", list_revisions_route, methods=["GET"])])
get_revision_router = Router(
    [Route("/api/projects/{project_id}/revisions/{revision}", get_revision_route, methods=["GET"])]
)

# Every endpoint, by the name of the function that serves it (functions/<name>/app.py): the one list
# the local server, the tests and the template's checks read. A new endpoint is a router added here.
ROUTERS: dict[str, Router] = {
    "list_projects": list_projects_router,
    "list_changes": list_changes_router,
    "get_project": get_project_router,
    "put_project": put_project_router,
    "delete_project": delete_project_router,
    "push_changes": push_changes_router,
    "list_revisions": list_revisions_router,
    "get_revision": get_revision_router,
}


def _project_id(request: Request) -> uuid.UUID:
    return projects.parse_project_id(request.path_params["project_id"])


def _services(request: Request) -> Services:
    return request.app.state.services


def _session_token(request: Request) -> str:
    policy, headers = _services(request).session_policy, request.headers
    return _verified_session_token(policy, headers.get("authorization"), headers.get("cookie"))


@functools.lru_cache(maxsize=64)
def _verified_session_token(policy: SessionPolicy, authorization: str | None, cookie_header: str | None) -> str:
    # A warm environment sees the same few sessions again and again, and the check is a pure function of
    # the policy and the two headers (~15% of a small GET's handler CPU): each is made once. A refusal
    # raises, so it is never kept.
    return session_token(policy, authorization=authorization, cookie_header=cookie_header)


async def _body(request: Request, token: str) -> bytes:
    """The body, decoded (gzip) as it arrives, and refused (413) the moment what arrived or what it
    decodes to passes MAX_BODY_BYTES, chunked or not, without reading or inflating the rest. The session
    and the limiter are asked first: a refused oversized body is answered 401 or 429 when those say no,
    and spends its token."""
    services = _services(request)
    decoder = BodyDecoder(request.headers.get("content-encoding"), services.max_body_bytes)
    try:
        declared = request.headers.get("content-length", "")
        if declared.isdigit():
            projects.check_body_size(int(declared), services.max_body_bytes)
        arrived = 0
        async for chunk in request.stream():
            arrived += len(chunk)
            projects.check_body_size(arrived, services.max_body_bytes, complete=False)
            decoder.feed(chunk)
    except PayloadTooLarge:
        services.store.report_body_too_large(token)
        raise
    return decoder.decoded()


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise InvalidRequest(f"{name} must be 1 or 0")
