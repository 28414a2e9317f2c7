-- The order the changes feed reads projects in: the id of the transaction that last wrote each row.
-- Not a sequence (its order is not commit order, and nextval() pins RDS Proxy connections) and not a
-- timestamp (nor is theirs): a reader takes only rows whose writer finished before its snapshot's
-- xmin, so a change committed late is read late, never skipped. Every write sets it: inserts by
-- default, updates explicitly (projects_sql.py).
-- depends: 20261202_01_create-parse-request-body

ALTER TABLE public.projects ADD COLUMN "changeXid" xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX projects_user_change_idx ON public.projects ("userId", "changeXid", id);

-- How far each user's tombstone purge has gone: the newest "changeXid" of a tombstone it deleted.
-- A feed cursor from before it may have missed a deletion that no longer exists, so it is refused
-- (410) and the client resyncs from scratch.
CREATE TABLE public.project_feed_horizons (
    "userId"        text NOT NULL PRIMARY KEY REFERENCES public."user" (id) ON DELETE CASCADE,
    "purgedThrough" xid8 NOT NULL
);
