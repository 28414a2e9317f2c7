"""DELETE /api/projects/{id}: tombstone checked against baseRevision or If-Match."""

from mangum import Mangum

from sync_core.adapters.http import build_app, delete_project

handler = Mangum(build_app(delete_project), lifespan="off")
