"""POST /api/changes: a batch of PUTs and DELETEs in one request, each answered as its own would be."""

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import push_changes_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(HttpApiHandler(api_app(push_changes_router)))
