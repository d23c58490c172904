"""Shapes every contract shares: list envelopes and query parameters."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from graph.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_POSITION

# The last page whose offset is still a position the GraphQL cursors accept.
MAX_PAGE = MAX_POSITION // MAX_PAGE_SIZE

T = TypeVar("T")


class Pagination(BaseModel):
    page: int
    limit: int
    total: int


class ListOf(BaseModel, Generic[T]):
    data: list[T]
    pagination: Pagination


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="1-based page number.")
    limit: int = Field(
        default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page."
    )
