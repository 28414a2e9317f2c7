DROP FUNCTION public.parse_write_body(bytea);
