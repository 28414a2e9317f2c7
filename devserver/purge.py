"""`make purge`: one run of the tombstone purge on the local database, as the scheduled function runs it
(`TOMBSTONE_PURGE_DAYS=1 make purge` purges the tombstones older than a day)."""

import json

from devserver.database import prepare_schema, use_local_database
from sync_core.adapters.assembly import tombstone_purge


def main() -> None:
    prepare_schema(use_local_database())
    print(json.dumps(tombstone_purge().run().as_dict()))


if __name__ == "__main__":
    main()
