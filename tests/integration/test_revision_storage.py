"""How a revision's data is stored: lz4 TOAST compression where the server has it (issue 15), the
default pglz where it does not (pgserver's embedded 16: the migration applies there too)."""

import psycopg


def test_revision_data_is_lz4_compressed_where_the_server_has_it(database_url):
    with psycopg.connect(database_url) as connection:
        (server_has_lz4,) = connection.execute(
            "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).fetchone()
        (compression,) = connection.execute(
            "SELECT attcompression FROM pg_attribute"
            " WHERE attrelid = 'public.project_revisions'::regclass AND attname = 'data'"
        ).fetchone()
    assert compression == ("l" if server_has_lz4 else "")
