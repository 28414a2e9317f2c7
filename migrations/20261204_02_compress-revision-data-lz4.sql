-- A revision's data TOAST-compressed with lz4 where the server has it (RDS and Aurora PostgreSQL do;
-- pgserver's embedded 16 does not): on project JSON it compresses several times faster than the
-- default pglz and decompresses faster, for a little more on disk (README.md, "The floor"). Rows
-- written before keep their pglz copies, which read as before. A server without lz4 keeps pglz.
-- depends: 20261204_01_create-parse-write-body

DO $$
BEGIN
    IF EXISTS (
        SELECT FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)
    ) THEN
        ALTER TABLE public.project_revisions ALTER COLUMN data SET COMPRESSION lz4;
    END IF;
END
$$;
