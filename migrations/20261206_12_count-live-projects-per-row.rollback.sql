CREATE TRIGGER projects_count_added
AFTER INSERT ON public.projects REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION public.count_live_projects();

CREATE TRIGGER projects_count_changed
AFTER UPDATE ON public.projects REFERENCING OLD TABLE AS removed NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION public.count_live_projects();

DROP TRIGGER projects_count_liveness_changed ON public.projects;
DROP TRIGGER projects_count_added_live ON public.projects;
DROP FUNCTION public.count_live_project_change();
