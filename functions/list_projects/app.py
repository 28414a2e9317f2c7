"""GET /api/projects: the signed-in user's projects, newest first, without data."""

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import list_projects_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(HttpApiHandler(api_app(list_projects_router)))
