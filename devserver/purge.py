"""`make purge`: one run of the tombstone purge on the local database, as the scheduled function runs it
(`TOMBSTONE_PURGE_DAYS=1 make purge` purges the tombstones older than a day)."""

import json
from collections.abc import Callable

from devserver.database import PURGE_ROLE, as_role, prepare_schema, use_local_database
from sync_core.adapters.assembly import tombstone_purge
from sync_core.adapters.settings import TombstonePurgeSettings, load_settings


def run_local_purge(settings_type: type, build: Callable) -> None:
    """One run of a scheduled purge on the local database, as the purge role, printing its report."""
    owner_url = use_local_database()
    prepare_schema(owner_url)
    settings = load_settings(settings_type).model_copy(update={"database_url": as_role(owner_url, PURGE_ROLE)})
    print(json.dumps(build(settings).run().as_dict()))


def main() -> None:
    run_local_purge(TombstonePurgeSettings, tombstone_purge)


if __name__ == "__main__":
    main()
