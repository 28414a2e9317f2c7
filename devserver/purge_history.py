"""`make purge-history`: one run of the history purge on the local database, as the scheduled function
runs it (`HISTORY_KEEP_REVISIONS=2 make purge-history` keeps each project's current revision and one more)."""

import json

from devserver.database import prepare_schema, use_local_database
from sync_core.adapters.assembly import history_purge


def main() -> None:
    prepare_schema(use_local_database())
    print(json.dumps(history_purge().run().as_dict()))


if __name__ == "__main__":
    main()
