"""Every way a sync request can fail, in the product's words.

The HTTP adapter maps each class to one status code; nothing else decides status codes.
"""


class SyncError(Exception):
    """Base of the errors a client is told about. `code` is the stable, machine-readable name."""

    code = "sync_error"

    def __init__(self, message: str, *, retry_after_seconds: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after_seconds = retry_after_seconds


class Unauthenticated(SyncError):
    code = "unauthenticated"


class InvalidRequest(SyncError):
    """Malformed input: the id, the JSON, a header."""

    code = "invalid_request"


class InvalidField(SyncError):
    """Well-formed JSON whose fields have the wrong type or value."""

    code = "invalid_field"


class PayloadTooLarge(SyncError):
    code = "payload_too_large"


class UnsupportedEncoding(SyncError):
    """A request body in a Content-Encoding this API does not decode (it decodes gzip)."""

    code = "unsupported_content_encoding"


class ProjectNotFound(SyncError):
    code = "project_not_found"


class RevisionNotFound(SyncError):
    """No such revision of this user's project is kept: never written, purged by retention, or not theirs."""

    code = "revision_not_found"


class RevisionConflict(SyncError):
    """The base revision is stale. `body` is the JSON `{"server": {...}}` to send back, as Postgres wrote it."""

    code = "revision_conflict"

    def __init__(self, body: bytes):
        super().__init__("the project changed on the server since baseRevision")
        self.body = body


class CursorExpired(SyncError):
    """The feed cursor is older than the user's tombstone purge: deletions it has not read are gone, so
    the client lists everything again (GET /api/changes without since)."""

    code = "cursor_expired"


class DatabaseUnavailable(SyncError):
    code = "database_unavailable"


class WriteRaced(SyncError):
    """Two first writes of one project met, and this one could not see the other's row even on a
    second try: retrying it answers 409 or the replay."""

    code = "write_raced"


class QuotaExceeded(SyncError):
    """The write would take the user past their storage quota (bytes or projects); the message names it.
    Nothing stored changed; deleting projects (or history's purge) makes room."""

    code = "quota_exceeded"


class RateLimited(SyncError):
    """Over the user's rate limit, or blocked for repeated throttling; `retry_after_seconds` says when."""

    code = "rate_limited"
