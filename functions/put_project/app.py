"""PUT /api/projects/{id}: upsert checked against baseRevision; 409 carries the server copy."""

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import put_project_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(HttpApiHandler(api_app(put_project_router)))
