"""GET /api/projects/{id}/revisions/{revision}: one kept revision with its ETag; If-None-Match answers 304."""

from mangum import Mangum

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.routes import get_revision_router

handler = Mangum(api_app(get_revision_router), lifespan="off")
