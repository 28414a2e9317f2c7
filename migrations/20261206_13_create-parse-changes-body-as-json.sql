-- The body of POST /api/changes read as PUT's body is read whole (issue 15's goal for the batch): as
-- json, each change split into its members by one json_each, only the members other than data as
-- jsonb. parse_changes_body parsed the whole body as jsonb (~45 ms of a 1 MiB batch's ~75 ms of
-- parsing, measured) only to check each change's small fields. Reading `changes` de-escapes every
-- string of the body, so a \u0000 or a lone surrogate anywhere is refused as jsonb refuses it; NaN,
-- Infinity and nesting too deep are refused by the json parse; a number too large for numeric is kept
-- in data as sent (as PUT keeps it) and refused in any other member of a change. A member given twice is
-- read as its last, by the checks and the write alike (as jsonb reads it). Members of the body other
-- than changes are not read. Whatever this path does not take (a refused body, changes not an array of
-- objects) parse_changes_body answers, with its words. Never raises.
-- depends: 20261206_12_count-live-projects-per-row

-- parse_changes_body's answer, with its changes as each change's data, as parse_changes_body_as_json's.
CREATE FUNCTION public.parse_changes_body_whole(
    sent bytea, OUT document jsonb, OUT changes json, OUT problem text, OUT refusal text
)
LANGUAGE sql STABLE
AS $$
    SELECT
        parsed.document,
        CASE WHEN parsed.changes IS NOT NULL THEN (
            SELECT coalesce(json_agg(element.value -> 'data' ORDER BY element.place), '[]')
            FROM json_array_elements(parsed.changes) WITH ORDINALITY AS element(value, place)
        ) END,
        parsed.problem,
        parsed.refusal
    FROM public.parse_changes_body(sent) AS parsed
$$;

CREATE FUNCTION public.parse_changes_body_as_json(
    sent bytea,
    OUT document jsonb,  -- {"changes": [each change's members other than data, data's place holding null]}
    OUT changes json,    -- each change's data as the exact text sent (JSON null for a change without data)
    OUT problem text,    -- why the body is refused, in the API's words; NULL when it is not
    OUT refusal text     -- Postgres' own words for it, for the log only
)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    body json;
BEGIN
    body := convert_from(sent, 'UTF8')::json;
    IF json_typeof(body) = 'object' AND json_typeof(body -> 'changes') = 'array' THEN
        SELECT jsonb_build_object('changes', coalesce(jsonb_agg(item.fields ORDER BY element.place), '[]')),
            coalesce(json_agg(item.data ORDER BY element.place), '[]')
        INTO document, changes
        FROM json_array_elements(body -> 'changes') WITH ORDINALITY AS element(value, place),
        LATERAL (
            SELECT
                -- A change that is no object stays what it is, for the statement to refuse in its words.
                coalesce(jsonb_object_agg(
                    member.key,
                    CASE WHEN member.key = 'data' THEN 'null'::jsonb ELSE member.value::jsonb END
                    ORDER BY member.place
                ), CASE WHEN json_typeof(element.value) = 'object' THEN '{}'::jsonb ELSE element.value::jsonb END)
                    AS fields,
                (array_agg(member.value ORDER BY member.place DESC) FILTER (WHERE member.key = 'data'))[1] AS data
            FROM json_each(CASE WHEN json_typeof(element.value) = 'object' THEN element.value END)
                WITH ORDINALITY AS member(key, value, place)
        ) AS item;
        RETURN;
    END IF;
    SELECT parsed.* INTO document, changes, problem, refusal FROM public.parse_changes_body_whole(sent) AS parsed;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    SELECT parsed.* INTO document, changes, problem, refusal FROM public.parse_changes_body_whole(sent) AS parsed;
END
$$;
