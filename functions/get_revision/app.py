"""GET /api/projects/{id}/revisions/{revision}: one kept revision with its ETag; If-None-Match answers 304."""

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import get_revision_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(HttpApiHandler(api_app(get_revision_router)))
