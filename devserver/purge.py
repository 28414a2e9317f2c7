"""`make purge`: one run of the tombstone purge on the local database, as the scheduled function runs it
(`TOMBSTONE_PURGE_DAYS=1 make purge` purges the tombstones older than a day)."""

import json

from devserver.database import PURGE_ROLE, as_role, prepare_schema, use_local_database
from sync_core.adapters.assembly import tombstone_purge
from sync_core.adapters.settings import TombstonePurgeSettings, load_settings


def main() -> None:
    owner_url = use_local_database()
    prepare_schema(owner_url)
    settings = load_settings(TombstonePurgeSettings).model_copy(update={"database_url": as_role(owner_url, PURGE_ROLE)})
    print(json.dumps(tombstone_purge(settings).run().as_dict()))


if __name__ == "__main__":
    main()
