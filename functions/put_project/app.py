"""PUT /api/projects/{id}: upsert checked against baseRevision; 409 carries the server copy."""

from mangum import Mangum

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.routes import put_project_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(Mangum(api_app(put_project_router), lifespan="off"))
