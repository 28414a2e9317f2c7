-- The bytes of each revision added, counted by a row trigger (issue 16's quota, issue 15's floor): the
-- statement trigger of 20261205_01 read them from a transition table, which holds every inserted row
-- whole, data and all: for a 4 MiB PUT, 4 MiB copied into a tuplestore and spilled to a temporary file
-- (~10 ms, ~4% of the write), only to sum one bigint. A row trigger reads NEW.bytes from the row as stored.
-- A batch's writes each update the usage row once (the usage row is the writer's own, locked already).
-- Deletes keep the statement trigger: purges delete many users' rows and lock them in id order.
-- depends: 20261206_10_create-parse-split-write-body

CREATE FUNCTION public.count_added_revision_bytes() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO public.storage_usage AS used ("userId", bytes) VALUES (NEW."userId", NEW.bytes)
    ON CONFLICT ("userId") DO UPDATE SET bytes = used.bytes + excluded.bytes;
    RETURN NULL;
END
$$;

-- Swapped in one transaction, so every revision is counted once.
CREATE TRIGGER project_revisions_count_added_bytes
AFTER INSERT ON public.project_revisions
FOR EACH ROW WHEN (NEW.bytes <> 0)
EXECUTE FUNCTION public.count_added_revision_bytes();

DROP TRIGGER project_revisions_count_added ON public.project_revisions;
