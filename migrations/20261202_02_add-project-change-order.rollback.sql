DROP TABLE public.project_feed_horizons;
DROP INDEX public.projects_user_change_idx;
ALTER TABLE public.projects DROP COLUMN "changeXid";
