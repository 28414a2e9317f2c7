"""The local app: the same routers the Lambda functions serve, plus dev sign-in, the API's contract
(/openapi.json, /docs) and the demo editor, with CORS around all of it for an editor served from another
origin."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from devserver.connections import CloseUnreadBodies
from devserver.cors import ExactOriginCors
from devserver.dev_auth import dev_auth_router
from devserver.openapi import openapi_router
from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import LocalServerSettings

CLIENT = Path(__file__).resolve().parent.parent / "client"


def build_local_app(settings: LocalServerSettings) -> FastAPI:
    app = api_app(*ROUTERS.values(), settings=settings)
    app.include_router(dev_auth_router(settings.database_url, app.state.services.session_policy))
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
