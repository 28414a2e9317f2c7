DROP FUNCTION public.parse_request_body(bytea);
