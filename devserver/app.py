"""The local app: the same routers the Lambda functions serve, plus dev sign-in, the API's contract
(/openapi.json, /docs) and the demo editor, with CORS around all of it for an editor served from another
origin."""

from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from devserver.connections import CloseUnreadBodies
from devserver.cors import ExactOriginCors
from devserver.dev_auth import dev_auth_router
from devserver.openapi import openapi_router
from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.errors import ERROR_CODE_KEY, error_body
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import LocalServerSettings

CLIENT = Path(__file__).resolve().parent.parent / "client"


def build_local_app(settings: LocalServerSettings) -> FastAPI:
    # FastAPI for the dev routes' models; the API's own routes are the functions' Starlette routes.
    app = api_app(
        *ROUTERS.values(),
        settings=settings,
        framework=partial(FastAPI, openapi_url=None, docs_url=None, redoc_url=None),
    )
    app.add_exception_handler(RequestValidationError, _validation_error_response)
    better_auth_database = settings.better_auth_database_url or settings.database_url
    app.include_router(dev_auth_router(better_auth_database, app.state.services.session_policy))
    app.include_router(openapi_router())
    app.mount("/client", StaticFiles(directory=CLIENT), name="client")
    app.add_middleware(CloseUnreadBodies)
    # Added last, so it is the outermost: a preflight is answered before any route or body is looked at.
    app.add_middleware(
        ExactOriginCors, allow_origins=settings.cors_origins, allow_credentials=settings.cors_allow_credentials
    )

    @app.get("/", include_in_schema=False)
    def demo_editor() -> FileResponse:
        return FileResponse(CLIENT / "demo" / "index.html")

    return app


async def _validation_error_response(request: Request, error: RequestValidationError) -> JSONResponse:
    request.scope[ERROR_CODE_KEY] = "invalid_request"
    return JSONResponse(error_body("invalid_request", str(error.errors())), status_code=422)
