-- Request bodies read by Postgres without ever raising. PUT and DELETE call this in their one
-- statement, and only once the session and the limiter admitted the request: an error there would roll
-- the statement back, the limiter's token with it, so a refused body would cost Postgres a parse and
-- its sender nothing. Caught here, the token stays spent and the answer is a 400 in the API's words.
-- Plain PL/pgSQL, so it runs on every Postgres the API supports (15 and later).
-- depends: 20261125_02_create-rate-limits

CREATE FUNCTION public.parse_request_body(
    sent bytea,
    OUT document jsonb,  -- the body as jsonb (checked as JSON must be); NULL when empty or refused
    OUT data json,       -- its "data" member as the exact text sent, when it has one (json keeps spelling)
    OUT problem text,    -- why the body is refused, in the API's words; NULL when it is not
    OUT refusal text     -- Postgres' own words for it, for the log only
)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    body text;
BEGIN
    body := convert_from(sent, 'UTF8');
    IF btrim(body, E' \t\n\r') = '' THEN
        RETURN;
    END IF;
    document := body::jsonb;
    IF jsonb_typeof(document) = 'object' AND document ? 'data' THEN
        -- Inside the same handler: the json parser recurses like the jsonb one.
        data := body::json -> 'data';
    END IF;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    document := NULL;
    data := NULL;
    refusal := SQLERRM;
    problem := CASE SQLSTATE
        WHEN '22021' THEN 'the body is not UTF-8 text (or holds a NUL byte)'
        WHEN '22P05' THEN 'the body holds \u0000, which Postgres cannot store in JSON'
        WHEN '22003' THEN 'the body holds a number too large to store'
        WHEN '54001' THEN 'the body nests arrays or objects too deeply'
        ELSE 'the body is not valid JSON'
    END;
END
$$;
