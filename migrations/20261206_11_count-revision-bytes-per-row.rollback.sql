CREATE TRIGGER project_revisions_count_added
AFTER INSERT ON public.project_revisions REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION public.count_revision_bytes();

DROP TRIGGER project_revisions_count_added_bytes ON public.project_revisions;
DROP FUNCTION public.count_added_revision_bytes();
