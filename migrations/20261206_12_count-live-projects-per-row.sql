-- Live projects counted by row triggers that fire only when a row's liveness changes (issue 16's quota,
-- issue 14's history on/off at 1 KiB): the statement triggers of 20261205_01 ran on every write, two
-- of them for a PUT's upsert (INSERT and UPDATE), each a query over its transition tables that, for an
-- ordinary write of a live project, changed nothing (~0.12 ms of a 1 KiB PUT's ~2.4 ms). Now such a
-- write fires none; a new project, a tombstone or a restore updates its user's usage row once.
-- Deletes keep the statement trigger: the tombstone purge and account deletion delete many users' rows.
-- depends: 20261206_11_count-revision-bytes-per-row

CREATE FUNCTION public.count_live_project_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO public.storage_usage AS used ("userId", projects)
    VALUES (NEW."userId", CASE WHEN NEW."deletedAt" IS NULL THEN 1 ELSE -1 END)
    ON CONFLICT ("userId") DO UPDATE SET projects = used.projects + excluded.projects;
    RETURN NULL;
END
$$;

-- Swapped in one transaction, so every change is counted once.
CREATE TRIGGER projects_count_added_live
AFTER INSERT ON public.projects
FOR EACH ROW WHEN (NEW."deletedAt" IS NULL)
EXECUTE FUNCTION public.count_live_project_change();

CREATE TRIGGER projects_count_liveness_changed
AFTER UPDATE ON public.projects
FOR EACH ROW WHEN ((OLD."deletedAt" IS NULL) IS DISTINCT FROM (NEW."deletedAt" IS NULL))
EXECUTE FUNCTION public.count_live_project_change();

DROP TRIGGER projects_count_added ON public.projects;
DROP TRIGGER projects_count_changed ON public.projects;
