-- The tombstone purge reads the oldest tombstones of every user, in bounded batches: a partial index
-- keeps that a short range scan however many live projects there are.
-- depends: 20261202_02_add-project-change-order

CREATE INDEX projects_tombstones_idx ON public.projects ("deletedAt") WHERE "deletedAt" IS NOT NULL;
