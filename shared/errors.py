"""The errors a service answers with: one class hierarchy, mapped to HTTP once (``shared.web``).

Service functions raise these; the JSON API answers them as ``{"error", "field", ...}`` with
their status, and the editor forms put an ``InvalidInput`` next to the field it names.
"""
from __future__ import annotations


class ApiError(Exception):
    """A refusal answered as JSON ``{"error": message, "field": field, **extra}`` with ``status``."""

    def __init__(self, status: int, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra

    def body(self) -> dict:
        """The JSON answer."""
        out = {"error": self.message}
        if self.field:
            out["field"] = self.field
        out.update(self.extra)
        return out


class InvalidInput(ApiError):
    """A field of the input is wrong (422 unless told); ``field`` names it and the message says how to fix it."""

    def __init__(self, field: str, message: str, status: int = 422, **extra):
        super().__init__(status, message, field=field, **extra)
        self.args = (f"{field}: {message}",)


class NotFound(ApiError):
    """The thing asked for does not exist (404)."""

    def __init__(self, message: str):
        super().__init__(404, message)


class Conflict(ApiError):
    """The request clashes with the current data (409)."""

    def __init__(self, message: str, field: str | None = None, **extra):
        super().__init__(409, message, field=field, **extra)


class PreconditionFailed(ApiError):
    """The request was made against a state that has changed since (412), e.g. a stale ``If-Match``."""

    def __init__(self, message: str, **extra):
        super().__init__(412, message, **extra)
