-- New rows compressed with the server default (pglz) again; lz4 rows read as they are.
ALTER TABLE public.project_revisions ALTER COLUMN data SET COMPRESSION DEFAULT;
