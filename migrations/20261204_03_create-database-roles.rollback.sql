-- The roles stay (they are cluster-wide, and another database may use them); only this database's
-- grants go.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM appframes_api;
REVOKE ALL ON public."session", public."user" FROM appframes_api, appframes_limit_consumer;
REVOKE ALL
    ON public.projects, public.project_revisions, public.rate_limits, public.rate_limit_blocks,
       public.rate_limit_events, public.project_feed_horizons
    FROM appframes_api, appframes_limit_consumer, appframes_purge;
