"""A marker for "leave this field as it is" in partial updates (distinct from setting None)."""

from __future__ import annotations

from enum import Enum
from typing import Final, TypeVar

from typing_extensions import TypeIs

T = TypeVar("T")


class Keep(Enum):
    KEEP = "keep"


KEEP: Final = Keep.KEEP


def given(value: T | Keep) -> TypeIs[T]:
    """True when the client sent this field (even if it sent null)."""
    return value is not KEEP
