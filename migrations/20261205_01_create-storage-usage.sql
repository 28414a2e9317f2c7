-- Per-user storage quota (issue 16): what each user holds, kept in one row so that a write checks its
-- quota without summing the user's revisions. bytes is the sum of project_revisions.bytes (current
-- revisions and history), projects the number of live (not deleted) projects. Triggers keep it, in the
-- statement that changes projects or project_revisions: every write, DELETE, the purges, the foreign
-- key's cascade and the old code's trigger alike, from the rows each actually changed. docs/quotas.md.
-- depends: 20261204_03_create-database-roles

CREATE TABLE public.storage_usage (
    "userId" text   PRIMARY KEY,
    bytes    bigint NOT NULL DEFAULT 0,
    projects bigint NOT NULL DEFAULT 0
);

-- The user's usage row, created when missing and locked until the transaction ends: every write of a
-- user takes it before any project row, so two writes of one user queue here (the second then reads
-- what the first stored) and never deadlock. VOLATILE: each statement reads the latest committed row.
CREATE FUNCTION public.lock_storage_usage(user_id text) RETURNS public.storage_usage
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    used public.storage_usage;
BEGIN
    SELECT * INTO used FROM public.storage_usage WHERE "userId" = user_id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO public.storage_usage ("userId") VALUES (user_id) ON CONFLICT DO NOTHING;
        SELECT * INTO used FROM public.storage_usage WHERE "userId" = user_id FOR UPDATE;
    END IF;
    RETURN used;
END
$$;

-- For each write, in order (a batch's items by position), why the quota refuses it, or NULL. A write
-- that will not be applied (a stale baseRevision: 409; its writeId again: a replay) is never refused
-- and counts nothing. A write of a live project no larger than its current revision always passes,
-- as deletes do (they are not passed here). Each write passed counts towards the next.
CREATE FUNCTION public.storage_quota_refusals(
    user_id text, ids uuid[], data_bytes bigint[], base_revisions bigint[], write_ids uuid[],
    quota_bytes bigint, quota_projects bigint
) RETURNS text[]
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    used public.storage_usage := public.lock_storage_usage(user_id);
    refusals text[] := '{}';
    refusal text;
    applied boolean;
    adds_project boolean;
    item record;
BEGIN
    FOR item IN
        SELECT sent.bytes, sent.base_revision, sent.write_id, project.id IS NOT NULL AS existing,
            project.revision, project."writeId", project."deletedAt" IS NULL AS live, current.bytes AS current_bytes
        FROM unnest(ids, data_bytes, base_revisions, write_ids) WITH ORDINALITY
            AS sent (id, bytes, base_revision, write_id, place)
        LEFT JOIN public.projects AS project ON project."userId" = user_id AND project.id = sent.id
        LEFT JOIN public.project_revisions AS current
            ON current."userId" = user_id AND current.id = sent.id AND current.revision = project.revision
        ORDER BY sent.place
    LOOP
        -- As the statement's upsert decides: a new project is always written, an existing one at its revision.
        applied := NOT (item.existing AND (item.revision IS DISTINCT FROM item.base_revision
            OR item."writeId" IS NOT DISTINCT FROM item.write_id));
        adds_project := NOT (item.existing AND item.live);
        refusal := CASE
            WHEN NOT applied OR NOT adds_project AND item.bytes <= item.current_bytes THEN NULL
            WHEN used.bytes + item.bytes > quota_bytes THEN format(
                'storage quota reached: a user''s projects and their history may hold %s bytes'
                ' (QUOTA_BYTES_PER_USER); %s are held and this write adds %s', quota_bytes, used.bytes, item.bytes)
            WHEN adds_project AND used.projects >= quota_projects THEN format(
                'storage quota reached: a user may have %s projects (QUOTA_PROJECTS_PER_USER); delete one first',
                quota_projects)
        END;
        IF applied AND refusal IS NULL THEN
            used.bytes := used.bytes + item.bytes;
            used.projects := used.projects + adds_project::int;
        END IF;
        refusals := array_append(refusals, refusal);
    END LOOP;
    RETURN refusals;
END
$$;

-- Revisions added and removed, as bytes. Users in id order: two purges never lock usage rows crosswise.
CREATE FUNCTION public.count_revision_bytes() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.storage_usage AS used ("userId", bytes)
        SELECT "userId", sum(bytes) FROM added GROUP BY "userId" ORDER BY "userId"
        ON CONFLICT ("userId") DO UPDATE SET bytes = used.bytes + excluded.bytes;
    ELSE
        INSERT INTO public.storage_usage AS used ("userId", bytes)
        SELECT "userId", -sum(bytes) FROM removed GROUP BY "userId" ORDER BY "userId"
        ON CONFLICT ("userId") DO UPDATE SET bytes = used.bytes + excluded.bytes;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER project_revisions_count_added
AFTER INSERT ON public.project_revisions REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION public.count_revision_bytes();

CREATE TRIGGER project_revisions_count_removed
AFTER DELETE ON public.project_revisions REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION public.count_revision_bytes();

-- Live projects gained (a new project, a restore) and lost (a tombstone). An ordinary write of a live
-- project gains and loses one: its user's row is left alone.
CREATE FUNCTION public.count_live_projects() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.storage_usage AS used ("userId", projects)
        SELECT "userId", count(*) FROM added WHERE "deletedAt" IS NULL GROUP BY "userId" ORDER BY "userId"
        ON CONFLICT ("userId") DO UPDATE SET projects = used.projects + excluded.projects;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO public.storage_usage AS used ("userId", projects)
        SELECT "userId", sum(change) FROM (
            SELECT "userId", 1 AS change FROM added WHERE "deletedAt" IS NULL
            UNION ALL
            SELECT "userId", -1 FROM removed WHERE "deletedAt" IS NULL
        ) AS changed
        GROUP BY "userId" HAVING sum(change) <> 0 ORDER BY "userId"
        ON CONFLICT ("userId") DO UPDATE SET projects = used.projects + excluded.projects;
    ELSE
        INSERT INTO public.storage_usage AS used ("userId", projects)
        SELECT "userId", -count(*) FROM removed WHERE "deletedAt" IS NULL GROUP BY "userId" ORDER BY "userId"
        ON CONFLICT ("userId") DO UPDATE SET projects = used.projects + excluded.projects;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER projects_count_added
AFTER INSERT ON public.projects REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION public.count_live_projects();

CREATE TRIGGER projects_count_changed
AFTER UPDATE ON public.projects REFERENCING OLD TABLE AS removed NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION public.count_live_projects();

CREATE TRIGGER projects_count_removed
AFTER DELETE ON public.projects REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION public.count_live_projects();

-- The triggers' locks keep writes waiting until this commits, so the backfill counts every row once.
LOCK TABLE public.projects, public.project_revisions IN SHARE MODE;

INSERT INTO public.storage_usage ("userId", bytes, projects)
SELECT "userId", sum(bytes), sum(projects)
FROM (
    SELECT "userId", bytes, 0 AS projects FROM public.project_revisions
    UNION ALL
    SELECT "userId", 0, 1 FROM public.projects WHERE "deletedAt" IS NULL
) AS held
GROUP BY "userId";

-- The API reads and locks its users' rows and, through the triggers, changes them; so do the purges
-- (their deletes' triggers, the tombstone purge's cascade included).
GRANT SELECT, INSERT, UPDATE ON public.storage_usage TO appframes_api, appframes_purge;
