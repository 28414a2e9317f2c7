DROP FUNCTION public.take_tokens(text, text, float8, float8, float8);
DROP FUNCTION public.refilled_tokens(float8, timestamptz, float8, float8);
DROP FUNCTION public.to_iso_string(timestamptz);
DROP FUNCTION public.deletion_field_problem(jsonb);
DROP FUNCTION public.write_field_problem(jsonb);
DROP FUNCTION public.write_id_problem(jsonb);
DROP FUNCTION public.base_revision(jsonb);
