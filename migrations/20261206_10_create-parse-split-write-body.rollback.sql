DROP FUNCTION public.parse_split_write_body(bytea, integer, integer);
