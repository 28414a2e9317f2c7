"""GET /api/projects/{id}: one project with its ETag; If-None-Match answers 304."""

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import get_project_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(HttpApiHandler(api_app(get_project_router)))
