"""Freed memory kept for the next request, instead of handed back to the kernel after each one.

glibc's malloc returns a freed block of more than 128 KiB to the kernel at once (mmap threshold) and
trims the heap's free top past its trim threshold, so every request that builds a megabyte answer
(psycopg's rows, the page's join, the response's text) faults the same pages in again: ~250 page
faults a MiB, ~1 ms of CPU a MiB on this machine, more than the copies themselves. An execution
environment serves one request at a time and its peak is reached anyway, so the heap may keep it.
"""

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
# glibc's ceiling for the mmap threshold on 64 bits; a block larger than this is still mapped.
LARGEST_BLOCK_FROM_HEAP = 32 * 1024 * 1024
# Free heap kept at most (the functions have 1024 MB; a 4 MiB request's peak is a few tens of MB).
KEPT_FREE_BYTES = 64 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed memory in the heap; False where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    # Both, in this order: setting either one also turns off glibc's own adjustment of the other.
    return bool(mallopt(M_MMAP_THRESHOLD, LARGEST_BLOCK_FROM_HEAP) and mallopt(M_TRIM_THRESHOLD, KEPT_FREE_BYTES))
