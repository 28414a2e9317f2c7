-- Back to data in projects: each project's current revision's data, or for a tombstone the newest
-- revision that had data ('{}' when none is kept), as the old code expects a tombstone to keep it.
DROP FUNCTION public.project_revision_data(text, uuid, bigint);
DROP TRIGGER projects_keep_revision_of_data_write ON public.projects;
DROP FUNCTION public.keep_revision_of_data_write();
UPDATE public.projects AS project
SET data = coalesce(
    (
        SELECT kept.data
        FROM public.project_revisions AS kept
        WHERE kept."userId" = project."userId" AND kept.id = project.id
          AND kept.revision <= project.revision AND kept.data IS NOT NULL
        ORDER BY kept.revision DESC
        LIMIT 1
    ),
    '{}'::json
)
WHERE project.data IS NULL;
ALTER TABLE public.projects ALTER COLUMN data SET NOT NULL;
DROP TABLE public.project_revisions;
