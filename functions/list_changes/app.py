"""GET /api/changes: the signed-in user's projects that changed after a cursor, in change order, paged."""

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import list_changes_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(HttpApiHandler(api_app(list_changes_router)))
