-- The body of POST /api/changes, read by Postgres without ever raising (as parse_request_body, which it
-- calls for the checks and the jsonb): its "changes" array also as json, so each item's "data" is stored
-- as the exact text it was sent as.
-- depends: 20261202_02_add-project-change-order

CREATE FUNCTION public.parse_changes_body(
    sent bytea,
    OUT document jsonb,  -- the body as jsonb; NULL when empty or refused
    OUT changes json,    -- its "changes" member as the exact text sent, when it is an array
    OUT problem text,    -- why the body is refused, in the API's words; NULL when it is not
    OUT refusal text     -- Postgres' own words for it, for the log only
)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    SELECT parsed.document, parsed.problem, parsed.refusal INTO document, problem, refusal
    FROM public.parse_request_body(sent) AS parsed;
    IF jsonb_typeof(document -> 'changes') = 'array' THEN
        changes := convert_from(sent, 'UTF8')::json -> 'changes';
    END IF;
-- Not reached for a body the jsonb parse accepted; caught all the same, so the token stays spent.
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    document := NULL;
    changes := NULL;
    refusal := SQLERRM;
    problem := 'the body is not valid JSON';
END
$$;
