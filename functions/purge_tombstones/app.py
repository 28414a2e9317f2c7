"""Scheduled (EventBridge): deletes tombstones past the horizon in bounded batches, so they never pile up."""

from sync_core.adapters.assembly import tombstone_purge_handler

handler = tombstone_purge_handler()
