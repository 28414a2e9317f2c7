DROP FUNCTION public.spend_admitted_tokens(text, text, float8);
DELETE FROM public.rate_limits WHERE scope = 'write_bytes';
DELETE FROM public.rate_limit_events WHERE scope = 'write_bytes';
ALTER TABLE public.rate_limits DROP CONSTRAINT rate_limits_scope_check,
    ADD CONSTRAINT rate_limits_scope_check CHECK (scope IN ('read', 'write'));
ALTER TABLE public.rate_limit_events DROP CONSTRAINT rate_limit_events_scope_check,
    ADD CONSTRAINT rate_limit_events_scope_check CHECK (scope IN ('read', 'write'));
