"""PUT's single-write quota function (migrations/20261206_30_...) judges every write exactly as the
batch's storage_quota_refusals judges a batch of one: applied or not, live, tombstoned or new, larger
or not than the current revision, under room and at each limit."""

import itertools
import uuid

import psycopg

from tests.integration.test_storage_quota import padded, usage

JUDGED_BOTH_WAYS = """
SELECT public.storage_quota_refusal(
        %(user)s, %(id)s, %(bytes)s, %(base)s, %(write_id)s, %(quota_bytes)s, %(quota_projects)s),
    (public.storage_quota_refusals(
        %(user)s, ARRAY[%(id)s::uuid], ARRAY[%(bytes)s::bigint], ARRAY[%(base)s::bigint],
        ARRAY[%(write_id)s::uuid], %(quota_bytes)s, %(quota_projects)s))[1]
"""


def test_the_single_write_function_judges_as_the_batch_function(api, new_user, database_url):
    user = new_user()
    live, gone = api.create(user, data=padded(500)), api.create(user, data=padded(300))
    assert api.delete(user, gone, {"baseRevision": 1}).status == 200
    held_bytes, held_projects = usage(database_url, user)
    with psycopg.connect(database_url) as connection:
        written = dict(connection.execute('SELECT id, "writeId" FROM public.projects WHERE "userId" = %s', (user.id,)))
        current_bytes = connection.execute(
            'SELECT bytes FROM public.project_revisions WHERE "userId" = %s AND id = %s AND revision = 1',
            (user.id, live),
        ).fetchone()[0]
        cases = itertools.product(
            [(live, written[live]), (gone, written[gone]), (uuid.uuid4(), None)],
            [0, 1, 2],
            ["same", "fresh"],
            [10, current_bytes, current_bytes + 1, 5000],
            [(10_000_000, 1000), (held_bytes + current_bytes, 1000), (held_bytes, 1000), (10_000_000, held_projects)],
        )
        verdicts = []
        for (project, write_id), base, write, size, (quota_bytes, quota_projects) in cases:
            params = {
                "user": user.id,
                "id": project,
                "bytes": size,
                "base": base,
                "write_id": write_id if write == "same" and write_id else uuid.uuid4(),
                "quota_bytes": quota_bytes,
                "quota_projects": quota_projects,
            }
            single, batch = connection.execute(JUDGED_BOTH_WAYS, params).fetchone()
            assert single == batch, params
            verdicts.append(single)
        connection.rollback()
    assert None in verdicts
    assert any("QUOTA_BYTES_PER_USER" in (verdict or "") for verdict in verdicts)
    assert any("QUOTA_PROJECTS_PER_USER" in (verdict or "") for verdict in verdicts)
