"""`make purge-history`: one run of the history purge on the local database, as the scheduled function
runs it (`HISTORY_KEEP_REVISIONS=2 make purge-history` keeps each project's current revision and one more)."""

from devserver.purge import run_local_purge
from sync_core.adapters.assembly import history_purge
from sync_core.adapters.settings import HistoryPurgeSettings


def main() -> None:
    run_local_purge(HistoryPurgeSettings, history_purge)


if __name__ == "__main__":
    main()
