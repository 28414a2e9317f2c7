"""GET /api/projects/{id}/revisions: the project's history, newest first, the current revision included."""

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import list_revisions_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(HttpApiHandler(api_app(list_revisions_router)))
