-- Least privilege (issue 16): the migrations' role (the one running this) owns the schema; each kind of
-- function logs in as a role of its own that can do only what its statements do. Roles are cluster-wide,
-- so they are created only where missing; on RDS each gets rds_iam, as RDS Proxy signs them in with IAM.
-- docs/migrations.md: the roles, and what a new table must grant.
-- depends: 20261204_02_compress-revision-data-lz4

DO $roles$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['appframes_api', 'appframes_limit_consumer', 'appframes_purge'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', role_name);
        END IF;
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
            EXECUTE format('GRANT rds_iam TO %I', role_name);
        END IF;
    END LOOP;
END
$roles$;

-- The API: reads Better Auth's sessions and users, never writes them, and reads and writes this
-- project's tables, today's and (default privileges) those the migrations' role creates later.
GRANT SELECT ON public."session", public."user" TO appframes_api;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON public.projects, public.project_revisions, public.rate_limits, public.rate_limit_blocks,
       public.rate_limit_events, public.project_feed_horizons
    TO appframes_api;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO appframes_api;

-- The rate-limit consumer (adapters/limit_consumer.py): checks the user, records each event once,
-- counts and prunes them, and sets blocks.
GRANT SELECT ON public."user" TO appframes_limit_consumer;
GRANT SELECT, INSERT, DELETE ON public.rate_limit_events TO appframes_limit_consumer;
GRANT SELECT, INSERT, UPDATE ON public.rate_limit_blocks TO appframes_limit_consumer;

-- The scheduled purges: the tombstone purge (adapters/tombstone_purge.py) locks (FOR UPDATE needs
-- UPDATE) and deletes old tombstones, whose history goes with them (the foreign key's cascade runs
-- with the owner's rights), and moves each user's feed horizon; the history purge
-- (adapters/history_purge.py) reads projects and deletes revisions past retention.
GRANT SELECT, UPDATE, DELETE ON public.projects TO appframes_purge;
GRANT SELECT, DELETE ON public.project_revisions TO appframes_purge;
GRANT SELECT, INSERT, UPDATE ON public.project_feed_horizons TO appframes_purge;
