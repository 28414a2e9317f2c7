"""Another connection's work, held open while the code under test runs: races made deterministic."""

import threading
import time

import psycopg


def hold_uncommitted(database_url: str, sql: str, params: tuple, seconds: float = 0.5) -> threading.Thread:
    """Run `sql` in a transaction of its own and commit it `seconds` later, from another thread."""
    connection = psycopg.connect(database_url)
    connection.execute(sql, params)

    def commit_later():
        time.sleep(seconds)
        connection.commit()
        connection.close()

    thread = threading.Thread(target=commit_later)
    thread.start()
    return thread
