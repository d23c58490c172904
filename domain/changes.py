"""A marker for "leave this field as it is" in partial updates (distinct from setting None)."""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal, TypeGuard, TypeVar

T = TypeVar("T")


class Keep(Enum):
    KEEP = "keep"


KEEP: Final = Keep.KEEP


def given(value: T | Literal[Keep.KEEP]) -> TypeGuard[T]:
    """True when the client sent this field (even if it sent null)."""
    return value is not KEEP
