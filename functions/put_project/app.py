"""PUT /api/projects/{id}: upsert checked against baseRevision; 409 carries the server copy."""

from mangum import Mangum

from sync_core.adapters.http import build_app, put_project

handler = Mangum(build_app(put_project), lifespan="off")
