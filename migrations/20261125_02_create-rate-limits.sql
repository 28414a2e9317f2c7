-- Per-user rate limiting: token buckets checked inside each request's one statement, the blocks the
-- escalation consumer sets, and the limit events it aggregates (docs/rate-limits.md).
-- depends: 20261125_01_create-projects

-- UNLOGGED: every request updates its bucket, and a logged write would make each read wait for a WAL
-- flush at commit. Buckets are disposable: after a crash of plain Postgres they restart full (Aurora
-- keeps them). Blocks, which must last, live in the logged table below.
CREATE UNLOGGED TABLE public.rate_limits (
    "userId"     text             NOT NULL REFERENCES public."user" (id) ON DELETE CASCADE,
    scope        text             NOT NULL CHECK (scope IN ('read', 'write')),
    -- Tokens left at "refilledAt"; the bucket refills continuously at the stage's rate up to its burst.
    tokens       double precision NOT NULL,
    "refilledAt" timestamptz      NOT NULL,
    PRIMARY KEY ("userId", scope)
);

-- Set by the consumer when a user keeps getting throttled; a block lifts by itself once past.
CREATE TABLE public.rate_limit_blocks (
    "userId"       text        NOT NULL REFERENCES public."user" (id) ON DELETE CASCADE,
    scope          text        NOT NULL CHECK (scope IN ('read', 'write')),
    "blockedUntil" timestamptz NOT NULL,
    PRIMARY KEY ("userId", scope)
);

-- One row per limit event, keyed by the event's id so a redelivered SQS message counts once.
CREATE TABLE public.rate_limit_events (
    id           uuid        PRIMARY KEY,
    "userId"     text        NOT NULL REFERENCES public."user" (id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('throttled', 'body_too_large', 'burst')),
    scope        text        NOT NULL CHECK (scope IN ('read', 'write')),
    "occurredAt" timestamptz NOT NULL,
    "receivedAt" timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX rate_limit_events_user_kind_idx ON public.rate_limit_events ("userId", kind, "occurredAt");
