"""GET /api/projects: the signed-in user's projects, newest first, without data."""

from mangum import Mangum

from sync_core.adapters.http import build_app, list_projects

handler = Mangum(build_app(list_projects), lifespan="off")
