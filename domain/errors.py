"""Errors the domain raises; the GraphQL layer turns each into an `extensions.code`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class DomainError(Exception):
    """A failure the caller can act on; its message is safe to show to clients."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"{resource} '{key}' was not found")
        self.resource = resource
        self.key = key


class BadInput(DomainError):
    """Input that can never succeed; `fields` maps each offending field to what is wrong."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})

    @classmethod
    def field(cls, name: str, problem: str) -> BadInput:
        return cls(f"{name}: {problem}", fields={name: problem})


class Conflict(DomainError):
    """The request is valid but contradicts the current state (retry after re-reading)."""

    code = "CONFLICT"


class PreconditionFailed(DomainError):
    """The client's `If-Match` entity tag no longer matches the record."""

    code = "PRECONDITION_FAILED"

    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"{resource} '{key}' has changed since it was read (stale If-Match)")
