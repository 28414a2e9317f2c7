DROP TABLE public.rate_limit_events;
DROP TABLE public.rate_limit_blocks;
DROP TABLE public.rate_limits;
