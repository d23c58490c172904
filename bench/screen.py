"""The screen query (README "Query cost") against graphql-core running the same answer's shape
from precomputed objects, in one process, taking turns (issue 13, goal 5).

    .venv/bin/python -m bench.screen [--runs 50] [--postgres postgresql+asyncpg://...]
                                     [--json PATH] [--profile PATH]

Seeds the demo organisation (60 mentors with statuses, pause records, two years of activities
and their milestones; `domain/demo.py`) into a fresh SQLite file (and the PostgreSQL database,
whose data tables are emptied first), then alternates:

- gateway: `GatewaySchema.execute` of the screen query with a real `Context` as `/graphql`
  makes it (a coordinator's principal, closed after the answer), metrics counting on;
- graphql-core: `graphql.execute` of the same parsed document against a schema built with
  `graphql.build_schema` from the SDL of just the fields it selects, default resolvers reading
  plain dicts: the gateway's first answer, precomputed. The two answers are asserted equal.

Reports p50 CPU (`time.process_time`, every thread of the process: the SQLite driver's too) and
wall time per run, and their ratios. `--profile` writes cProfile stats of the gateway's runs.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)

from api.settings import Settings
from auth.principal import Principal, Role
from bench.stats import empty_database, sqlite_file_url
from domain.demo import seed_demo
from graph.broker import broker_for
from graph.context import Context, GraphConfig
from graph.schema import GatewaySchema, build_schema
from models.database import Database
from tests.test_cost import SCREEN  # README "Query cost"; that test asserts README holds it

OUT = Path(__file__).parent / "out"
GOAL = 5
TARGET = 2.0  # the gateway within 2x of graphql-core

COORDINATOR = Principal(subject="bench", role=Role.COORDINATOR)


# --- graphql-core's side: the SDL of the selected fields, answered from dicts -------------------


def selected_sdl(schema: GraphQLSchema, document: DocumentNode) -> str:
    """SDL declaring only the fields `document` selects, with the arguments it gives them, typed
    as the gateway declares them (nullability, lists, enums), so the same document validates."""
    info = TypeInfo(schema)
    used: dict[str, dict[str, str]] = {}
    leaves: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent, field = info.get_parent_type(), info.get_field_def()
            assert parent is not None
            assert field is not None
            given = [argument.name.value for argument in node.arguments or ()]
            arguments = ", ".join(f"{n}: {field.args[n].type}" for n in given)
            leaves.update(get_named_type(field.args[n].type).name for n in given)
            used.setdefault(parent.name, {})[node.name.value] = (
                f"({arguments})" if arguments else ""
            ) + f": {field.type}"
            named: GraphQLNamedType = get_named_type(field.type)
            if not isinstance(named, GraphQLObjectType):
                leaves.add(named.name)

    visit(document, TypeInfoVisitor(info, Collect()))
    lines = []
    for name in sorted(leaves):
        leaf = schema.type_map[name]
        if isinstance(leaf, GraphQLEnumType):
            lines.append(f"enum {name} {{ {' '.join(leaf.values)} }}")
        elif name not in graphql.specified_scalar_types:
            lines.append(f"scalar {name}")
    for type_name, fields in used.items():
        body = "\n".join(f"  {field}{signature}" for field, signature in fields.items())
        lines.append(f"type {type_name} {{\n{body}\n}}")
    return "\n".join(lines)


def plain_baseline(gateway: GraphQLSchema, document: DocumentNode) -> GraphQLSchema:
    plain = graphql.build_schema(selected_sdl(gateway, document))
    problems = graphql.validate(plain, document)
    assert not problems, problems
    return plain


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Samples:
    cpu_ms: list[float]
    wall_ms: list[float]

    def p50(self) -> tuple[float, float]:
        return statistics.median(self.cpu_ms), statistics.median(self.wall_ms)


async def timed(run: Callable[[], Awaitable[Any]], samples: Samples) -> Any:
    cpu, wall = time.process_time(), time.perf_counter()
    answer = await run()
    samples.cpu_ms.append((time.process_time() - cpu) * 1000)
    samples.wall_ms.append((time.perf_counter() - wall) * 1000)
    return answer


async def gateway_answer(schema: GatewaySchema, database: Database, config: GraphConfig) -> Any:
    """As `/graphql` runs it (api/graphql.py): a fresh context, closed after the answer."""
    context = Context(
        database=database, config=config, broker=broker_for(database.url), principal=COORDINATOR
    )
    try:
        result = await schema.execute(SCREEN, context_value=context)
    finally:
        await context.close()
    assert not result.errors, result.errors
    return result.data


@dataclass
class Measured:
    database: str
    gateway: Samples
    core: Samples
    mentors: int
    milestones: int


async def measure(name: str, url: str, runs: int, profile: cProfile.Profile | None) -> Measured:
    await empty_database(url)
    database = Database(url)
    try:
        await seed_demo(database)
        settings = Settings(database_url=url)
        schema = build_schema(limits=settings.graphql_limits())
        schema.count_operations()  # as production runs it (METRICS_ENABLED)
        config = GraphConfig(timezone=settings.zone)
        document = graphql.parse(SCREEN)
        plain = plain_baseline(schema._schema, document)

        expected = await gateway_answer(schema, database, config)
        root = copy.deepcopy(expected)  # precomputed: graphql-core's default resolvers read it

        async def core() -> Any:
            result = graphql.execute(plain, document, root_value=root)
            assert not isinstance(result, Awaitable)
            assert not result.errors, result.errors
            return result.data

        async def gateway() -> Any:
            if profile is None:
                return await gateway_answer(schema, database, config)
            profile.enable()
            try:
                return await gateway_answer(schema, database, config)
            finally:
                profile.disable()

        assert await core() == expected, "graphql-core's answer differs from the gateway's"
        for _ in range(5):  # warm-up: caches, first-use imports, the pool
            await gateway_answer(schema, database, config)
            await core()
        measured = Measured(name, Samples([], []), Samples([], []), 0, 0)
        for _ in range(runs):
            assert await timed(gateway, measured.gateway) == expected
            assert await timed(core, measured.core) == expected
        nodes = expected["mentors"]["nodes"]
        measured.mentors = len(nodes)
        measured.milestones = sum(len(node["milestones"]) for node in nodes)
        return measured
    finally:
        await database.dispose()


# --- reporting ---------------------------------------------------------------------------------


def table(results: list[Measured], runs: int) -> str:
    lines = [
        f"Screen query, {runs} runs each, alternating; p50 per run in ms",
        "",
        "| database | mentors / milestones | gateway CPU | graphql-core CPU | CPU ratio "
        "| gateway wall | graphql-core wall | wall ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        (g_cpu, g_wall), (c_cpu, c_wall) = r.gateway.p50(), r.core.p50()
        lines.append(
            f"| {r.database} | {r.mentors} / {r.milestones} | {g_cpu:.1f} | {c_cpu:.1f} "
            f"| {g_cpu / c_cpu:.2f}x | {g_wall:.1f} | {c_wall:.1f} | {g_wall / c_wall:.2f}x |"
        )
    return "\n".join(lines)


def figures(results: list[Measured]) -> list[dict[str, Any]]:
    found = []
    for r in results:
        (g_cpu, g_wall), (c_cpu, c_wall) = r.gateway.p50(), r.core.p50()
        for kind, ratio, gateway, core in (
            ("CPU", g_cpu / c_cpu, g_cpu, c_cpu),
            ("wall", g_wall / c_wall, g_wall, c_wall),
        ):
            found.append(
                {
                    "goal": GOAL,
                    "figure": f"screen query (first: 50), {r.database}: gateway / graphql-core "
                    f"from precomputed objects, p50 {kind}",
                    "measured": f"{ratio:.2f}x ({gateway:.1f} ms / {core:.1f} ms)",
                    "target": f"<= {TARGET:g}x",
                    "met": ratio <= TARGET,
                }
            )
    return found


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="runs of each, alternating")
    parser.add_argument("--postgres", help="also on this PostgreSQL URL (its data is emptied)")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--profile", type=Path, help="cProfile stats of the gateway's runs")
    parser.add_argument("--sqlite-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


async def _main(args: argparse.Namespace) -> list[Measured]:
    OUT.mkdir(exist_ok=True)
    targets = [("SQLite", sqlite_file_url(OUT / "screen.db"))]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    results = []
    for name, url in targets:
        profile = cProfile.Profile() if args.profile else None
        results.append(await measure(name, url, args.runs, profile))
        if profile is not None:
            profile.dump_stats(f"{args.profile}.{name.lower()}")
        print(f"{name}: done", file=sys.stderr)
    return results


def main() -> None:
    args = _arguments()
    results = asyncio.run(_main(args))
    print(table(results, args.runs))
    if args.json:
        args.json.write_text(json.dumps(figures(results), indent=2) + "\n")


if __name__ == "__main__":
    main()
