"""GET /api/projects/{id}/revisions: the project's history, newest first, the current revision included."""

from mangum import Mangum

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.routes import list_revisions_router

handler = Mangum(api_app(list_revisions_router), lifespan="off")
