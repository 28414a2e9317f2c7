DROP INDEX public.projects_tombstones_idx;
