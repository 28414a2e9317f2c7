DROP FUNCTION public.put_project_v1(
    text, boolean, text, bigint, float8, bigint, bigint, float8, integer, bytea, bytea, uuid, uuid, bigint,
    bigint, bytea
);
