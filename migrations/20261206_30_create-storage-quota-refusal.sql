-- The storage quota of one write, PUT's (issue 14: its 1 KiB PUT with history at most 1.3x without):
-- storage_quota_refusals built arrays, unnested them and looped for a single write, ~0.4 ms of backend
-- CPU against ~0.2 ms here (measured; README's History). The same judgment (migrations/20261205_01_...):
-- a write that will not be applied (a stale baseRevision: 409; its writeId again: a replay) is never
-- refused; a write of a live project no larger than its current revision always passes. The usage row
-- is locked first, before any project row, and the project is read after the lock, in a statement of
-- its own (a fresh snapshot): a write that queued behind another of its user judges what that one stored.
-- The batch keeps storage_quota_refusals.
-- depends: 20261206_13_create-parse-changes-body-as-json

CREATE FUNCTION public.storage_quota_refusal(
    user_id text, project_id uuid, data_bytes bigint, base_revision bigint, write_id uuid,
    quota_bytes bigint, quota_projects bigint
) RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    used public.storage_usage;
    project record;
    existing boolean;
    adds_project boolean;
BEGIN
    -- lock_storage_usage inline (a nested call costs more than its query); it creates a missing row.
    SELECT * INTO used FROM public.storage_usage WHERE "userId" = user_id FOR UPDATE;
    IF NOT FOUND THEN
        used := public.lock_storage_usage(user_id);
    END IF;
    SELECT stored.revision, stored."writeId", stored."deletedAt" IS NULL AS live, current.bytes AS current_bytes
    INTO project
    FROM public.projects AS stored
    LEFT JOIN public.project_revisions AS current
        ON current."userId" = user_id AND current.id = project_id AND current.revision = stored.revision
    WHERE stored."userId" = user_id AND stored.id = project_id;
    existing := FOUND;
    -- As the statement's upsert decides: a new project is always written, an existing one at its revision.
    IF existing AND (project.revision IS DISTINCT FROM base_revision OR project."writeId" IS NOT DISTINCT FROM write_id)
    THEN
        RETURN NULL;
    END IF;
    adds_project := NOT (existing AND project.live);
    RETURN CASE
        WHEN NOT adds_project AND data_bytes <= project.current_bytes THEN NULL
        WHEN used.bytes + data_bytes > quota_bytes THEN format(
            'storage quota reached: a user''s projects and their history may hold %s bytes'
            ' (QUOTA_BYTES_PER_USER); %s are held and this write adds %s', quota_bytes, used.bytes, data_bytes)
        WHEN adds_project AND used.projects >= quota_projects THEN format(
            'storage quota reached: a user may have %s projects (QUOTA_PROJECTS_PER_USER); delete one first',
            quota_projects)
    END;
END
$$;
