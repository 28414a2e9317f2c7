"""Rate limits and abuse controls: the per-user buckets, the limit events, the hooks they go to,
and the escalation rule. The buckets are enforced by the store, in each request's one statement."""

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    WRITE_BYTES = "write_bytes"  # a write's body, in bytes: beside the write bucket, never alone


class LimitEventKind(StrEnum):
    THROTTLED = "throttled"
    BODY_TOO_LARGE = "body_too_large"
    BURST = "burst"  # the bucket ran low: the user is near the limit


@dataclass(frozen=True)
class Bucket:
    """A token bucket: `burst` tokens at once (requests; bytes for WRITE_BYTES), refilled at `per_minute`."""

    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


@dataclass(frozen=True)
class RateLimits:
    read: Bucket
    write: Bucket
    write_bytes: Bucket
    enabled: bool
    # A request that leaves less than this share of the burst fires a BURST event (once per drain).
    soft_threshold: float

    def bucket(self, scope: Scope) -> Bucket:
        return {Scope.READ: self.read, Scope.WRITE: self.write, Scope.WRITE_BYTES: self.write_bytes}[scope]

    def crossed_soft_threshold(self, scope: Scope, tokens_left: float, *, spent: float = 1) -> bool:
        """True for the one request whose `spent` tokens take the bucket from above the threshold to below it."""
        threshold = self.bucket(scope).burst * self.soft_threshold
        return tokens_left < threshold <= tokens_left + spent


def retry_after_seconds(wait: float) -> int:
    """Retry-After is whole seconds; never 0, so a client always waits."""
    return max(1, math.ceil(wait))


@dataclass(frozen=True)
class StorageQuota:
    """What one user may hold (docs/quotas.md): bytes of projects and their history, and live projects."""

    bytes_per_user: int
    projects_per_user: int


@dataclass(frozen=True)
class LimitEvent:
    kind: LimitEventKind
    user_id: str
    scope: Scope
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": str(self.id),
                "kind": self.kind.value,
                "userId": self.user_id,
                "scope": self.scope.value,
                "occurredAt": self.occurred_at.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> "LimitEvent":
        """Strict: anything else is a poison message (ValueError), left to the queue's DLQ."""
        fields = json.loads(text)
        if not isinstance(fields, dict) or not isinstance(fields.get("userId"), str) or not fields["userId"]:
            raise ValueError("a limit event needs a userId")
        occurred_at = datetime.fromisoformat(fields["occurredAt"])
        if occurred_at.tzinfo is None:
            raise ValueError("occurredAt needs a time zone")
        return cls(
            kind=LimitEventKind(fields["kind"]),
            user_id=fields["userId"],
            scope=Scope(fields["scope"]),
            occurred_at=occurred_at,
            id=uuid.UUID(fields["id"]),
        )


class LimitHook(Protocol):
    """Where limit events go. `publish` must not wait on the network; `flush` may."""

    def publish(self, event: LimitEvent) -> None: ...

    def flush(self) -> None: ...


class LimitHooks:
    """Every configured hook, as one. The endpoints only ever see this."""

    def __init__(self, hooks: list[LimitHook] | None = None):
        self._hooks = list(hooks or [])
        self.pending = False

    @property
    def enabled(self) -> bool:
        return bool(self._hooks)

    def publish(self, event: LimitEvent) -> None:
        for hook in self._hooks:
            hook.publish(event)
        self.pending = True

    def flush(self) -> None:
        self.pending = False
        for hook in self._hooks:
            hook.flush()


@dataclass(frozen=True)
class Escalation:
    """Repeated throttling within a window blocks a user's writes for a longer period."""

    throttles_to_block: int
    window_seconds: int
    block_seconds: int
