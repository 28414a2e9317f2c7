-- PUT's body read without parsing it whole as jsonb (issue 15): a jsonb parse of a 4 MiB project costs
-- Postgres ~100 ms only to check four small fields. Here the body is validated as json (what the data
-- column stores: the exact text sent) and split into its members by one json_each; only the members
-- other than data become jsonb. json_each reads every string at any depth, so a \u0000 or a lone
-- surrogate anywhere is refused as the jsonb parse refuses it (same SQLSTATEs); NaN, Infinity and
-- nesting too deep are refused by the json parse. A number too large for numeric is kept in data as
-- the text it was sent as (json stores it; nothing reads data as jsonb), and refused in any other
-- member. A member given twice is read as jsonb reads it, by the check and by the write alike: the
-- last one. Whatever this path does not take (a refused or non-object body), parse_request_body
-- answers, with its words. Never raises, as parse_request_body.
-- depends: 20261203_01_create-project-revisions

CREATE FUNCTION public.parse_write_body(
    sent bytea,
    OUT document jsonb,  -- the members other than data as jsonb, data's place holding null, so that
                         -- `document ? 'data'` still says whether it was sent
    OUT data json,       -- the data member as the exact text sent
    OUT problem text,    -- why the body is refused, in the API's words; NULL when it is not
    OUT refusal text     -- Postgres' own words for it, for the log only
)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    body json;
BEGIN
    body := convert_from(sent, 'UTF8')::json;
    IF json_typeof(body) = 'object' THEN
        SELECT
            coalesce(jsonb_object_agg(
                member.key,
                CASE WHEN member.key = 'data' THEN 'null'::jsonb ELSE member.value::jsonb END
                ORDER BY member.place
            ), '{}'::jsonb),
            (array_agg(member.value ORDER BY member.place DESC) FILTER (WHERE member.key = 'data'))[1]
        INTO document, data
        FROM json_each(body) WITH ORDINALITY AS member(key, value, place);
        RETURN;
    END IF;
    SELECT parsed.* INTO document, data, problem, refusal FROM public.parse_request_body(sent) AS parsed;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    SELECT parsed.* INTO document, data, problem, refusal FROM public.parse_request_body(sent) AS parsed;
END
$$;
