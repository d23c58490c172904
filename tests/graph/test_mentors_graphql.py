"""Mentors over GraphQL: lookups, connections, and loaders that keep the SQL count flat."""

from __future__ import annotations

from typing import Any

import pytest

from models.database import Database
from tests.conftest import GraphQL
from tests.factories import make_mentor, make_pause

NESTED = """
query Nested($first: Int!) {
  mentors(first: $first) { edges { node { status { status } pauseRecords { id } } } }
}"""


async def _organisation(database: Database, size: int) -> None:
    for n in range(size):
        await make_mentor(database, id=f"mentor-{n:03}")
        if n % 3 == 0:
            await make_pause(database, mentor_id=f"mentor-{n:03}")


async def _sql_count(gql: GraphQL, query: str, **variables: Any) -> int:
    body = await gql(query, **variables)
    assert "errors" not in body, body
    count: int = body["extensions"]["sqlStatements"]
    return count


async def test_nested_query_costs_the_same_for_5_and_50_mentors(
    gql: GraphQL, database: Database
) -> None:
    await _organisation(database, 50)

    five = await _sql_count(gql, NESTED, first=5)
    fifty = await _sql_count(gql, NESTED, first=50)

    assert five == fifty
    assert fifty <= 4  # page + statuses + pause records (+ BEGIN on SQLite)


async def test_statement_count_does_not_grow_with_depth_of_back_references(
    gql: GraphQL, database: Database
) -> None:
    await _organisation(database, 12)
    query = """
    { mentors(first: 12) { totalCount nodes { id status { mentor { name status { isPaused } } }
        pauseRecordsConnection(first: 2) { totalCount nodes { mentor { id } } } } } }"""
    assert await _sql_count(gql, query) <= 8


async def test_mentor_lookup_and_null_for_unknown(gql: GraphQL, database: Database) -> None:
    await make_mentor(database, id="mntr_01HX4V2K8P", name="James Park")
    data = await gql.data(
        '{ known: mentor(id: "mntr_01HX4V2K8P") { id name status { status isPaused isEligibleForAssignment } }'
        ' unknown: mentor(id: "nobody") { id } }'
    )
    assert data["known"] == {
        "id": "mntr_01HX4V2K8P",
        "name": "James Park",
        "status": {"status": "active", "isPaused": False, "isEligibleForAssignment": True},
    }
    assert data["unknown"] is None


async def test_connection_pages_with_cursors(gql: GraphQL, database: Database) -> None:
    await _organisation(database, 5)
    query = """query Page($after: String) { mentors(first: 2, after: $after) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await gql.data(query, after=after))["mentors"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"mentor-{n:03}" for n in range(5)]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [("first: 101", "first"), ("first: -1", "first"), ('after: "bogus"', "after")],
)
async def test_bad_page_arguments_are_bad_user_input(
    gql: GraphQL, arguments: str, field: str
) -> None:
    body = await gql(f"{{ mentors({arguments}) {{ totalCount }} }}")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert field in error["extensions"]["fields"]


async def test_activity_types_are_seeded_by_the_migrations(gql: GraphQL) -> None:
    data = await gql.data("{ activityTypes { totalCount nodes { id key displayName } } }")
    assert data["activityTypes"]["totalCount"] == 5
    assert data["activityTypes"]["nodes"][0] == {
        "id": "act_type_001",
        "key": "one_on_one_session",
        "displayName": "One-on-One Session",
    }
