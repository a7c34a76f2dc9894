"""Domain errors; the error middleware turns each into a JSON HTTP answer."""

from __future__ import annotations


class HandoffError(Exception):
    """Base class: ``status`` is the HTTP status, the message says what to do."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(HandoffError):
    status = 400


class Unauthorized(HandoffError):
    status = 401


class Forbidden(HandoffError):
    status = 403


class NotFound(HandoffError):
    status = 404


class Conflict(HandoffError):
    """The handoff is not in a state that allows this."""

    status = 409


class Unprocessable(HandoffError):
    """Well-formed, but it contradicts what was sent before (an idempotency key reused)."""

    status = 422


class TooManyRequests(HandoffError):
    """Slowed down: ``retry_after`` seconds until the next try."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
