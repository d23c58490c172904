"""One way to page every list: Relay-style connections over offset cursors.

Cursors are opaque to clients but encode a position, so the REST layer's `page`/`limit` map onto
`first`/`after` exactly and both transports page through the same rows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

import strawberry

from domain.errors import BadInput

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# No list holds a billion rows; past this a cursor is forged, and its OFFSET would overflow the
# database's integers (a 500) instead of being refused as input.
MAX_POSITION = 1_000_000_000
_PREFIX = "cursor:"


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(cursor)
        position = int(text.removeprefix(_PREFIX))
    except (ValueError, UnicodeError, binascii.Error):
        raise BadInput.field("after", "is not a cursor this API returned") from None
    if not 0 <= position < MAX_POSITION:
        raise BadInput.field("after", "is not a cursor this API returned")
    return position


First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page size, 0 to {MAX_PAGE_SIZE}; default {DEFAULT_PAGE_SIZE}."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="The `cursor` of the last item already seen."),
]


@dataclass(frozen=True)
class Window:
    """Which slice of a list a request asks for."""

    offset: int
    limit: int

    @classmethod
    def from_args(cls, first: int | None, after: str | None) -> Window:
        limit = DEFAULT_PAGE_SIZE if first is None else first
        if not 0 <= limit <= MAX_PAGE_SIZE:
            raise BadInput.field("first", f"must be between 0 and {MAX_PAGE_SIZE}")
        offset = 0 if after is None else decode_cursor(after) + 1
        return cls(offset=offset, limit=limit)

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, to learn whether another page follows."""
        return self.limit + 1


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list: `nodes` (or `edges`), `pageInfo` and `totalCount`.")
class Connection(Generic[T]):
    nodes: list[T]
    page_info: PageInfo
    edges: list[Edge[T]]
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds, across all pages.")
    async def total_count(self) -> int:
        return await self.count_total()

    @classmethod
    def build(
        cls, rows: Sequence[T], window: Window, count_total: Callable[[], Awaitable[int]]
    ) -> Connection[T]:
        """A page from up to `window.fetch` rows starting at `window.offset`."""
        nodes = list(rows[: window.limit])
        cursors = [encode_cursor(window.offset + index) for index in range(len(nodes))]
        return cls(
            nodes=nodes,
            edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            page_info=PageInfo(
                has_next_page=len(rows) > window.limit,
                has_previous_page=window.offset > 0,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            count_total=count_total,
        )
