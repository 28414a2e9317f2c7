DROP FUNCTION public.parse_changes_body_as_json(bytea);
DROP FUNCTION public.parse_changes_body_whole(bytea);
