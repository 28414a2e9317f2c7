-- Projects mirrored from the editor's IndexedDB, owned by Better Auth users.
-- Better Auth owns "user" and "session"; this migration only references them.
-- depends:

CREATE TABLE public.projects (
    "userId"    text        NOT NULL REFERENCES public."user" (id) ON DELETE CASCADE,
    id          uuid        NOT NULL,
    name        text        NOT NULL,
    -- The payload exactly as the client sent it (json, not jsonb): numbers keep their spelling and
    -- the text never grows on the way out. Postgres still parses it as jsonb on the way in (PUT).
    data        json        NOT NULL,
    revision    bigint      NOT NULL CHECK (revision > 0),
    -- The client's id for the write that produced this revision: a retried PUT is answered, not re-applied.
    "writeId"   uuid,
    "deletedAt" timestamptz,
    "createdAt" timestamptz NOT NULL DEFAULT now(),
    "updatedAt" timestamptz NOT NULL DEFAULT now(),
    -- Ids come from the client, so two accounts may hold the same id; each row belongs to one user.
    PRIMARY KEY ("userId", id)
);

CREATE INDEX projects_user_updated_idx ON public.projects ("userId", "updatedAt" DESC);
CREATE INDEX projects_user_deleted_idx ON public.projects ("userId", "deletedAt");
