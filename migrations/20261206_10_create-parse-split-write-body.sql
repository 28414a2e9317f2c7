-- PUT's body read with the span of its data member given (issue 15): the handler finds where data's value
-- lies (sync_core/domain/write_body.py) without parsing it, so Postgres parses as jsonb only the body with
-- that span replaced by null (the small fields: every rule and message as parse_request_body's) and casts
-- the span alone to json, which is what the floor, storing the same bytes in a json column, costs too.
-- The handler passes a span only when data holds no \u0000 and no lone surrogate escape (which a json cast
-- accepts and jsonb refuses) and data is the body's one data member. Both parts are checked here, so a
-- span that is not exactly data's value is refused by one of the parses; then, and for a body without a
-- span, the body is read whole by parse_write_body, with its words. Never raises.
-- Data larger than half of work_mem is only checked here, not returned: the statement reads it
-- from the span where it stores it, so that no row of its CTEs carries it (a row past work_mem spills
-- to a temporary file: ~50 MB of them for a 4 MiB PUT before). A second json cast costs less than that;
-- for smaller data, less than carrying it in memory (measured: ~4 ms of Postgres CPU less at 1 MiB).
-- depends: 20261205_01_create-storage-usage

CREATE FUNCTION public.parse_split_write_body(
    sent bytea,
    data_start integer,  -- data's value is sent's bytes from data_start (0-based) up to data_end; NULL: no span
    data_end integer,
    OUT document jsonb,  -- as parse_write_body's: the members other than data, data's place holding null
    OUT data json,       -- the data member as the exact text sent; NULL when the span, checked, is
                         -- too large to carry (see above) or the body is refused
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
            -- Data small enough to stay in memory in the statement's CTEs comes back (one cast in all);
            -- larger data is only checked, and cast again where it is stored.
            IF data_end - data_start <= pg_size_bytes(current_setting('work_mem')) / 2 THEN
                data := convert_from(substring(sent FROM data_start + 1 FOR data_end - data_start), 'UTF8')::json;
            ELSE
                PERFORM convert_from(substring(sent FROM data_start + 1 FOR data_end - data_start), 'UTF8')::json;
            END IF;
            RETURN;
        END IF;
    END IF;
    SELECT parsed.* INTO document, data, problem, refusal FROM public.parse_write_body(sent) AS parsed;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    SELECT parsed.* INTO document, data, problem, refusal FROM public.parse_write_body(sent) AS parsed;
END
$$;
