"""GET /api/projects/{id}: one project with its ETag; If-None-Match answers 304."""

from mangum import Mangum

from sync_core.adapters.http import build_app, get_project

handler = Mangum(build_app(get_project), lifespan="off")
