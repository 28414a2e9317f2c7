-- The put_project statement exactly as the projects store sends it (one round trip): rendered from
-- layers/sync_core/sync_core/adapters/projects_sql.py by `make statements`; edit it there.
-- Parameters are psycopg's named ones, %(name)s.

SELECT * FROM public.put_project_v1(
    session_token => %(session_token)s,
    limits_on => %(limits_on)s,
    limit_scope => %(limit_scope)s,
    limit_burst => %(limit_burst)s,
    limit_per_second => %(limit_per_second)s,
    body_bytes => %(body_bytes)s,
    bytes_burst => %(bytes_burst)s,
    bytes_per_second => %(bytes_per_second)s,
    data_bytes => %(data_bytes)s,
    fields => %(fields)s,
    whole_body => %(whole_body)s,
    project_id => %(project_id)s,
    fallback_write_id => %(fallback_write_id)s,
    quota_bytes => %(quota_bytes)s,
    quota_projects => %(quota_projects)s,
    data => %(data)s
)
