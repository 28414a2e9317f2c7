DROP TABLE public.projects;
