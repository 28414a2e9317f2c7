-- Rate limits by what a request does: a `write_bytes` bucket (a write's body length, in bytes) beside
-- `write`, and the function a batch spends its further write tokens with (docs/rate-limits.md).
-- depends: 20261202_05_create-parse-changes-body

ALTER TABLE public.rate_limits DROP CONSTRAINT rate_limits_scope_check,
    ADD CONSTRAINT rate_limits_scope_check CHECK (scope IN ('read', 'write', 'write_bytes'));
ALTER TABLE public.rate_limit_events DROP CONSTRAINT rate_limit_events_scope_check,
    ADD CONSTRAINT rate_limit_events_scope_check CHECK (scope IN ('read', 'write', 'write_bytes'));

-- Takes `cost` more tokens from a bucket the calling statement's admission has just refilled and taken
-- from (so there is nothing to refill here, and its row is locked by this transaction), or none when it
-- holds fewer: NULL then. A function, not a CTE: one statement cannot update a row twice, but a volatile
-- function's UPDATE runs as a command of its own and sees the admission's row version.
CREATE FUNCTION public.spend_admitted_tokens(user_id text, bucket_scope text, cost float8) RETURNS float8
LANGUAGE sql VOLATILE
AS $$
    UPDATE public.rate_limits
    SET tokens = tokens - cost
    WHERE "userId" = user_id AND scope = bucket_scope AND tokens >= cost
    RETURNING tokens
$$;
