-- PUT's body read with the span of its data member given (issue 15): the handler finds where data's value
-- lies (sync_core/domain/write_body.py) without parsing it, so Postgres parses as jsonb only the body with
-- that span replaced by null (the small fields: every rule and message as parse_request_body's) and casts
-- the span alone to json, which is what the floor, storing the same bytes in a json column, costs too.
-- The handler passes a span only when data holds no \u0000 and no lone surrogate escape (which a json cast
-- accepts and jsonb refuses) and data is the body's one data member. Both parts are checked here, so a
-- span that is not exactly data's value is refused by one of the parses; then, and for a body without a
-- span, the body is read whole by parse_write_body, with its words. Never raises.
-- A span found right is only checked here, not returned: the statement reads data from the span where
-- it stores it, so that no row of its CTEs carries a multi-MiB value (each would copy it, and spill it to
-- disk past work_mem: ~50 MB of temporary files for a 4 MiB PUT). Two json casts cost less than that.
-- depends: 20261205_01_create-storage-usage

CREATE FUNCTION public.parse_split_write_body(
    sent bytea,
    data_start integer,  -- data's value is sent's bytes from data_start (0-based) up to data_end; NULL: no span
    data_end integer,
    OUT document jsonb,  -- as parse_write_body's: the members other than data, data's place holding null
    OUT data json,       -- the data member as the exact text sent when the body was read whole; NULL
                         -- when the span was checked and holds it (or the body is refused)
    OUT problem text,    -- why the body is refused, in the API's words; NULL when it is not
    OUT refusal text     -- Postgres' own words for it, for the log only
)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF data_start IS NOT NULL THEN
        SELECT fields.document, fields.problem INTO document, problem
        FROM public.parse_request_body(
            substring(sent FROM 1 FOR data_start) || 'null'::bytea || substring(sent FROM data_end + 1)
        ) AS fields;
        -- The span is data's value exactly: where null stood, without the whitespace around it.
        IF problem IS NULL AND jsonb_typeof(document -> 'data') = 'null'
            AND get_byte(sent, data_start) NOT IN (32, 9, 10, 13) AND get_byte(sent, data_end - 1) NOT IN (32, 9, 10, 13)
        THEN
            PERFORM convert_from(substring(sent FROM data_start + 1 FOR data_end - data_start), 'UTF8')::json;
            RETURN;
        END IF;
    END IF;
    SELECT parsed.* INTO document, data, problem, refusal FROM public.parse_write_body(sent) AS parsed;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    SELECT parsed.* INTO document, data, problem, refusal FROM public.parse_write_body(sent) AS parsed;
END
$$;
