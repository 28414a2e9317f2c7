"""The rate limits' rules, without Postgres."""

import pytest

from sync_core.domain.limits import Bucket, RateLimits, Scope


@pytest.mark.parametrize(
    ("tokens_left", "spent", "crossed"),
    [(24.5, 1, True), (23.5, 1, False), (25, 1, False), (10, 20, True), (10, 14, False), (0, 100, True)],
)
def test_the_soft_threshold_is_crossed_once_whatever_a_request_spends(tokens_left, spent, crossed):
    limits = RateLimits(
        read=Bucket(60, 100), write=Bucket(60, 100), write_bytes=Bucket(60, 100), enabled=True, soft_threshold=0.25
    )
    assert limits.crossed_soft_threshold(Scope.WRITE, tokens_left, spent=spent) is crossed
