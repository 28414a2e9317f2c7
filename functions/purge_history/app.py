"""Scheduled (EventBridge): deletes project revisions past the retention limits in bounded batches."""

from sync_core.adapters.assembly import history_purge_handler

handler = history_purge_handler()
