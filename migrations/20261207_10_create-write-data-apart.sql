-- PUT's data sent apart from the rest of its body (issue 15's floor): the handler finds data's value
-- (sync_core/domain/write_body.py) and sends it as one parameter, and the body with null in its place as
-- another. The statement parses that small body first (its fields, every rule and message as before),
-- then casts data once, inside the revision's insert: no row of its CTEs carries data, and no second
-- cast re-reads it. The floor, storing the same bytes in a json column, pays that one cast too. A data
-- the cast refuses is stored nowhere: the statement writes the revision before the projects row, so
-- nothing is written, and the store reads the body whole in a second statement, whose words answer (the
-- slow path, as for a body the handler cannot split). 20261206_10's parse_split_write_body stays for
-- the statements of the release before this one.
-- depends: 20261206_30_create-storage-quota-refusal

-- The small fields of a PUT: of the body with data's value replaced by null (fields_sent), or, when the
-- handler could not place data, of the whole body (whole_sent), read as parse_write_body reads it (data
-- comes back from that one only). Never raises.
CREATE FUNCTION public.parse_write_fields(
    fields_sent bytea,
    whole_sent bytea,
    OUT document jsonb,  -- as parse_write_body's: data's place holding null
    OUT data json,       -- NULL for fields_sent (data is cast where it is stored), else parse_write_body's
    OUT problem text,    -- why the body is refused, in the API's words; NULL when it is not
    OUT refusal text     -- Postgres' own words for it, for the log only
)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    fields record;
BEGIN
    IF fields_sent IS NULL THEN
        SELECT whole.* INTO document, data, problem, refusal FROM public.parse_write_body(whole_sent) AS whole;
        RETURN;
    END IF;
    -- Assignments, not queries: plpgsql evaluates them without planning them again for each call.
    fields := public.parse_request_body(fields_sent);
    document := fields.document;
    problem := fields.problem;
    refusal := fields.refusal;
    IF problem IS NULL AND jsonb_typeof(document) = 'object' AND document ? 'data'
        AND jsonb_typeof(document -> 'data') IS DISTINCT FROM 'null'
    THEN
        -- Only a handler's mistake sends this: data's place must hold the null put there.
        document := NULL;
        problem := 'the body is not valid JSON';
        refusal := 'data''s place in the fields sent does not hold null';
    END IF;
END
$$;

-- data as the exact text sent, or NULL when Postgres refuses it (not UTF-8, not JSON, nested too deeply)
-- or whitespace surrounds it (the handler never sends any; a cast would keep it). Never raises.
CREATE FUNCTION public.write_data_or_null(sent bytea) RETURNS json
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF get_byte(sent, 0) IN (32, 9, 10, 13) OR get_byte(sent, length(sent) - 1) IN (32, 9, 10, 13) THEN
        RETURN NULL;
    END IF;
    RETURN convert_from(sent, 'UTF8')::json;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    RETURN NULL;
END
$$;
