"""Freed memory stays in the heap: a megabyte answer built again does not fault its pages in again."""

import resource
import sys

import pytest

from sync_core.adapters.memory import keep_freed_memory

BLOCK_BYTES = 4 * 1024 * 1024
PAGES = BLOCK_BYTES // resource.getpagesize()


def page_faults_building(size: int) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = bytearray(size)  # zeroed, so every page is touched
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is what is tuned")
def test_a_large_block_freed_and_built_again_reuses_its_pages():
    assert keep_freed_memory()
    page_faults_building(BLOCK_BYTES)
    assert page_faults_building(BLOCK_BYTES) < PAGES // 10
