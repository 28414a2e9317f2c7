DROP FUNCTION public.parse_changes_body(bytea);
