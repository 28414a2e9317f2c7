-- What every statement of the projects store shares, as SQL functions it calls: the rules of a write's
-- fields (PUT, DELETE and POST /api/changes share one copy of each rule and its message), the answers'
-- time format and the limiter's take from a bucket. The statements stay well under RDS Proxy's 16 KB pinning threshold
-- (docs/migrations.md). Each is one SQL expression, so Postgres inlines it where it is called. A rule
-- changes by a new migration that replaces its function.
-- depends: 20261202_06_add-write-bytes-limit

-- baseRevision as a bigint when it is a whole number from 0 to 2^63-1 with no fractional digits (jsonb
-- reads 1e2 as 100 and keeps 1.0 as 1.0), else NULL. CASE keeps the casts behind the checks.
CREATE FUNCTION public.base_revision(document jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE
        WHEN jsonb_typeof(document -> 'baseRevision') IS DISTINCT FROM 'number' THEN NULL
        WHEN (document ->> 'baseRevision') !~ '^[0-9]{1,19}$' THEN NULL
        WHEN (document ->> 'baseRevision')::numeric > 9223372036854775807 THEN NULL
        ELSE (document ->> 'baseRevision')::bigint
    END
$$;

-- Why a writeId is refused (it may be absent or null), or NULL.
CREATE FUNCTION public.write_id_problem(document jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE
        WHEN coalesce(jsonb_typeof(document -> 'writeId'), 'null') <> 'null'
            AND NOT (jsonb_typeof(document -> 'writeId') = 'string'
                AND document ->> 'writeId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
            THEN 'writeId must be a UUID'
    END
$$;

-- Why the fields of a write (a PUT's body, a batch's writing change) are refused, or NULL.
CREATE FUNCTION public.write_field_problem(document jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT coalesce(
        CASE
            WHEN jsonb_typeof(document -> 'name') IS DISTINCT FROM 'string' THEN 'name must be a string'
            WHEN length(document ->> 'name') > 1000 THEN 'name must be at most 1000 characters'
            WHEN NOT document ? 'data' THEN 'data is required'
            WHEN public.base_revision(document) IS NULL THEN 'baseRevision must be a whole number, 0 or more'
        END,
        public.write_id_problem(document),
        CASE
            WHEN coalesce(jsonb_typeof(document -> 'clientUpdatedAt'), 'null') NOT IN ('null', 'string')
                THEN 'clientUpdatedAt must be a string'
        END
    )
$$;

-- Why the fields of a deletion (a DELETE's body, a batch's deleting change) are refused, or NULL: its
-- baseRevision is optional.
CREATE FUNCTION public.deletion_field_problem(document jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE
        WHEN coalesce(jsonb_typeof(document -> 'baseRevision'), 'null') <> 'null'
            AND public.base_revision(document) IS NULL THEN 'baseRevision must be a whole number, 0 or more'
    END
$$;

-- A timestamp as JavaScript's Date.toISOString() writes it, whatever the session's time zone.
CREATE FUNCTION public.to_iso_string(moment timestamptz) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The tokens a bucket holds now: what it held, refilled since at its rate, up to its burst.
CREATE FUNCTION public.refilled_tokens(tokens float8, refilled_at timestamptz, burst float8, per_second float8)
RETURNS float8
LANGUAGE sql STABLE
AS $$
    SELECT least(burst, tokens + extract(epoch FROM now() - refilled_at)::float8 * per_second)
$$;

-- Takes `cost` tokens from the user's bucket of `bucket_scope` (a new bucket starts full) when it holds
-- that many: tokens_left is what remains. Refused (tokens_left NULL), it writes nothing and available
-- says what the bucket holds, to tell how long to wait. The conditional upsert is exact under
-- concurrency: ON CONFLICT re-checks its WHERE on the latest row version, and the read after it, a
-- command of its own, sees the version that refused.
CREATE FUNCTION public.take_tokens(
    user_id text,
    bucket_scope text,
    cost float8,
    burst float8,
    per_second float8,
    OUT tokens_left float8,
    OUT available float8
)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    INSERT INTO public.rate_limits AS bucket ("userId", scope, tokens, "refilledAt")
    VALUES (user_id, bucket_scope, burst - cost, now())
    ON CONFLICT ("userId", scope) DO UPDATE
        SET tokens = public.refilled_tokens(bucket.tokens, bucket."refilledAt", burst, per_second) - cost,
            "refilledAt" = now()
        WHERE public.refilled_tokens(bucket.tokens, bucket."refilledAt", burst, per_second) >= cost
    RETURNING bucket.tokens INTO tokens_left;
    IF tokens_left IS NULL THEN
        SELECT public.refilled_tokens(bucket.tokens, bucket."refilledAt", burst, per_second) INTO available
        FROM public.rate_limits AS bucket
        WHERE bucket."userId" = user_id AND bucket.scope = bucket_scope;
    END IF;
END
$$;
