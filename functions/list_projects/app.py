"""GET /api/projects: the signed-in user's projects, newest first, without data."""

from mangum import Mangum

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.routes import list_projects_router
from sync_core.adapters.logs import with_lambda_context

handler = with_lambda_context(Mangum(api_app(list_projects_router), lifespan="off"))
