DROP FUNCTION public.write_data_or_null(bytea);
DROP FUNCTION public.parse_write_fields(bytea, bytea);
