"""`make purge-history`: one run of the history purge on the local database, as the scheduled function
runs it (`HISTORY_KEEP_REVISIONS=2 make purge-history` keeps each project's current revision and one more)."""

import json

from devserver.database import PURGE_ROLE, as_role, prepare_schema, use_local_database
from sync_core.adapters.assembly import history_purge
from sync_core.adapters.settings import HistoryPurgeSettings, load_settings


def main() -> None:
    owner_url = use_local_database()
    prepare_schema(owner_url)
    settings = load_settings(HistoryPurgeSettings).model_copy(update={"database_url": as_role(owner_url, PURGE_ROLE)})
    print(json.dumps(history_purge(settings).run().as_dict()))


if __name__ == "__main__":
    main()
