-- Project history (issue 14): every accepted write appends its revision here, data and all, once; the
-- projects row keeps only what a write changes in place (current revision, name, writeId, deletedAt,
-- changeXid, timestamps). Copying the replaced data into a history table on each write would write
-- every payload twice (2.2x a plain update, measured); appending it once costs what the update did.
-- Expand only: projects.data stays, nullable, for the code still running while this applies, and a
-- trigger keeps the history whole for that code's writes. docs/migrations.md says when to contract.
-- depends: 20261202_07_create-statement-functions

CREATE TABLE public.project_revisions (
    "userId"    text        NOT NULL,
    id          uuid        NOT NULL,
    revision    bigint      NOT NULL CHECK (revision > 0),
    name        text        NOT NULL,
    -- As projects.data was: the exact text sent (json keeps spelling). NULL for a tombstone revision.
    data        json,
    "deletedAt" timestamptz,
    "updatedAt" timestamptz NOT NULL,
    -- octet_length(data::text), kept so that listing and retention by bytes never read the data.
    bytes       bigint      NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY ("userId", id, revision),
    -- A project's history goes with it: account deletion and the tombstone purge delete projects.
    FOREIGN KEY ("userId", id) REFERENCES public.projects ("userId", id) ON DELETE CASCADE
);

-- Retention by age reads the oldest revisions first.
CREATE INDEX project_revisions_updated_idx ON public.project_revisions ("updatedAt");

-- Writes wait until this commits (reads go on), so the backfill below misses none and the trigger
-- further down takes over from it.
LOCK TABLE public.projects IN SHARE MODE;

-- Every current revision. A tombstone's data was the revision before it, so that one comes back too
-- (when it was not the first: a restore then has something to restore); its time is unknown, the
-- tombstone's stands in for it.
INSERT INTO public.project_revisions ("userId", id, revision, name, data, "deletedAt", "updatedAt", bytes)
SELECT "userId", id, revision - 1, name, data, NULL, "updatedAt", octet_length(data::text)
FROM public.projects
WHERE "deletedAt" IS NOT NULL AND revision > 1;

INSERT INTO public.project_revisions ("userId", id, revision, name, data, "deletedAt", "updatedAt", bytes)
SELECT
    "userId", id, revision, name,
    CASE WHEN "deletedAt" IS NULL THEN data END,
    "deletedAt", "updatedAt",
    CASE WHEN "deletedAt" IS NULL THEN octet_length(data::text) ELSE 0 END
FROM public.projects;

-- New code writes no data here (NULL on every write it makes, which also frees the old copy).
ALTER TABLE public.projects ALTER COLUMN data DROP NOT NULL;

-- Code from before this migration still writes projects.data until the new code takes traffic; each of
-- its writes becomes a revision here too, so none is missing from the history the new code reads. New
-- code's writes set data NULL, so for them the WHEN clause is false and the trigger never runs.
CREATE FUNCTION public.keep_revision_of_data_write() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO public.project_revisions ("userId", id, revision, name, data, "deletedAt", "updatedAt", bytes)
    VALUES (
        NEW."userId", NEW.id, NEW.revision, NEW.name,
        CASE WHEN NEW."deletedAt" IS NULL THEN NEW.data END,
        NEW."deletedAt", NEW."updatedAt",
        CASE WHEN NEW."deletedAt" IS NULL THEN octet_length(NEW.data::text) ELSE 0 END
    )
    ON CONFLICT ("userId", id, revision) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER projects_keep_revision_of_data_write
AFTER INSERT OR UPDATE ON public.projects
FOR EACH ROW WHEN (NEW.data IS NOT NULL)
EXECUTE FUNCTION public.keep_revision_of_data_write();

-- The data of one revision, for a 409's server copy. The statement's locking read returns a project's
-- latest version even when it was committed after the statement's snapshot, whose revision that
-- snapshot cannot see; VOLATILE, so this reads with a snapshot of its own (and is never inlined).
CREATE FUNCTION public.project_revision_data(user_id text, project_id uuid, at_revision bigint) RETURNS json
LANGUAGE sql VOLATILE
AS $$
    SELECT data FROM public.project_revisions WHERE "userId" = user_id AND id = project_id AND revision = at_revision
$$;
