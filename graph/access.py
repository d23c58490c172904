"""The access policy: one table saying what each role may do with each root field, enforced
where every transport meets (the executable schema), so REST, `/graphql` and websockets cannot
disagree (README "Access control").

- mentor: reads their own mentor, status, pause records, sync events, activities, stats and
  milestones (and the catalogues); writes status events for themselves, acknowledges their own
  events, records their own activities.
- coordinator: reads everything but the audit trail; writes statuses, pause records, sync
  events and activities of any mentor.
- admin: everything, including registering mentors, milestone detection and corrections, every
  delete, and the audit trail.

Two guards, both installed by `install_policy` on the built schema:

- every root field (query, mutation, subscription) runs its `Rule` before its resolver; a field
  without a rule makes the schema fail to build, so no new field can be served unguarded;
- every field, at any depth, that returns a mentor's record (a Mentor, a status, a pause record,
  ...) checks for a mentor that each record is their own, so no nested path (`mentor { status {
  pendingEvents } }`) can reach another mentor's rows, even through a future field.

Lists a mentor reads are scoped in SQL to their own rows (`visible_mentor`), so `totalCount`
counts only those; the second guard turns a list that forgot the scope into FORBIDDEN, not a leak.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLType,
    default_field_resolver,
)

from auth.principal import Principal, Role
from domain.errors import DomainError
from graph.context import Context
from graph.pagination import Connection

FORBIDDEN = "FORBIDDEN"
UNAUTHENTICATED = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = FORBIDDEN


class Unauthenticated(DomainError):
    code = UNAUTHENTICATED


# When a mentor may use a field: a check of the principal against the field's arguments (as the
# client sent them, GraphQL names), awaited only for mentors. Coordinators and admins are
# decided by `Rule.roles` alone.
MentorCheck = Callable[[Principal, Mapping[str, Any], Context], Awaitable[str | None]]


@dataclass(frozen=True)
class Rule:
    """Who may use one root field: `roles` outright, and a mentor when `mentor` finds no
    reason to refuse (it returns the reason, or None)."""

    roles: frozenset[Role]
    mentor: MentorCheck | None = None

    async def refusal(
        self, principal: Principal, args: Mapping[str, Any], context: Context
    ) -> str | None:
        if principal.role in self.roles:
            return None
        if principal.role is Role.MENTOR and self.mentor is not None:
            return await self.mentor(principal, args, context)
        role = principal.role.value if principal.role else "no role of this service"
        return f"this needs one of: {', '.join(sorted(self.roles))} (the token's role: {role})"


def _not_yours(mentor_id: object) -> str:
    return f"mentor '{mentor_id}' is not the caller; a mentor reaches only their own records"


def own(argument: str) -> MentorCheck:
    """A mentor may name only themselves in `argument` (a path into the arguments, such as
    `input.mentorId`; a list on the way means every item)."""

    async def check(principal: Principal, args: Mapping[str, Any], _: Context) -> str | None:
        for value in _values_at(args, argument.split(".")):
            if not principal.is_mentor(value):
                return _not_yours(value)
        return None

    return check


def own_or_all(argument: str | None) -> MentorCheck:
    """A list: a mentor may filter by themselves or not at all (`visible_mentor` then scopes
    the list to them); `argument` None for a list with no mentor filter."""

    async def check(principal: Principal, args: Mapping[str, Any], _: Context) -> str | None:
        value = args.get(argument) if argument else None
        return None if value is None or principal.is_mentor(value) else _not_yours(value)

    return check


async def any_record(principal: Principal, args: Mapping[str, Any], context: Context) -> None:
    """One record by its id: the answer is checked instead (the owned-record guard)."""
    return None


def stored_sync_event(argument: str) -> MentorCheck:
    """A write to an existing sync event: only the mentor it belongs to, read before writing."""

    async def check(principal: Principal, args: Mapping[str, Any], context: Context) -> str | None:
        event = await context.loaders.sync_event.load(str(args[argument]))
        if event is None:  # the resolver answers NOT_FOUND
            return None
        return None if principal.is_mentor(event.mentor_id) else _not_yours(event.mentor_id)

    return check


def _values_at(value: Any, path: list[str]) -> Iterable[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _values_at(item, path)
        return
    if not path:
        yield value
        return
    if isinstance(value, Mapping):
        yield from _values_at(value.get(path[0]), path[1:])


ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})
EVERYONE = frozenset(Role)

# Every root field. A new one is served only once it has a row here (`install_policy`).
RULES: dict[str, Rule] = {
    # Catalogues: no personal data.
    "Query.activityTypes": Rule(EVERYONE),
    "Query.milestoneDefinitions": Rule(EVERYONE),
    # One mentor's data, by the mentor's id.
    "Query.mentor": Rule(STAFF, own("id")),
    "Query.mentorStatus": Rule(STAFF, own("mentorId")),
    "Query.newMilestones": Rule(STAFF, own("mentorId")),
    "Query.personalStats": Rule(STAFF, own("mentorId")),
    "Query.monthlySeries": Rule(STAFF, own("mentorId")),
    "Query.activityBreakdown": Rule(STAFF, own("mentorId")),
    "Query.contributionHistory": Rule(STAFF, own("mentorId")),
    # One record by its own id: whose it is shows in the answer.
    "Query.pauseRecord": Rule(STAFF, any_record),
    "Query.syncEvent": Rule(STAFF, any_record),
    "Query.milestone": Rule(STAFF, any_record),
    "Query.activity": Rule(STAFF, any_record),
    # Lists: a mentor's are scoped to their own rows.
    "Query.mentors": Rule(STAFF, own_or_all(None)),
    "Query.mentorStatuses": Rule(STAFF, own_or_all(None)),
    "Query.pauseRecords": Rule(STAFF, own_or_all("mentorId")),
    "Query.syncEvents": Rule(STAFF, own_or_all("mentorId")),
    "Query.milestones": Rule(STAFF, own_or_all("mentorId")),
    "Query.activities": Rule(STAFF, own_or_all("mentorId")),
    "Query.auditEvents": Rule(ADMIN),
    # Writes a mentor makes about themselves; coordinators for anyone.
    "Mutation.submitStatusEvent": Rule(STAFF, own("input.mentorId")),
    "Mutation.updateSyncEvent": Rule(STAFF, stored_sync_event("id")),
    "Mutation.recordActivity": Rule(STAFF, own("input.mentorId")),
    "Mutation.recordActivities": Rule(STAFF, own("input.mentorId")),
    # A coordinator's writes.
    "Mutation.createMentorStatus": Rule(STAFF),
    "Mutation.updateMentorStatus": Rule(STAFF),
    "Mutation.createPauseRecord": Rule(STAFF),
    "Mutation.updatePauseRecord": Rule(STAFF),
    # An admin's: registering mentors, milestone detection and corrections, every delete.
    "Mutation.createMentor": Rule(ADMIN),
    "Mutation.deleteMentorStatus": Rule(ADMIN),
    "Mutation.deletePauseRecord": Rule(ADMIN),
    "Mutation.deleteSyncEvent": Rule(ADMIN),
    "Mutation.detectMilestones": Rule(ADMIN),
    "Mutation.updateMilestone": Rule(ADMIN),
    "Mutation.deleteMilestone": Rule(ADMIN),
    # Live updates: a mentor watches only themselves; everyone's needs staff.
    "Subscription.mentorStatusChanged": Rule(STAFF, own("mentorId")),
    "Subscription.milestoneAchieved": Rule(STAFF, own("mentorId")),
}

# The types that are one mentor's records, and the attribute naming that mentor.
OWNER_ATTRIBUTE = {
    "Mentor": "id",
    "MentorStatus": "mentor_id",
    "PauseRecord": "mentor_id",
    "SyncEvent": "mentor_id",
    "Milestone": "mentor_id",
    "Activity": "mentor_id",
}


def principal_of(context: Context) -> Principal:
    """The caller, or UNAUTHENTICATED (only the HTTP middleware lets nobody through, and only
    to pages that run no operation)."""
    if context.principal is None:
        raise Unauthenticated("This operation needs a bearer token")
    return context.principal


def visible_mentor(context: Context, mentor_id: str | None) -> str | None:
    """The mentor a list shows: the filter asked for, or for a mentor, always themselves."""
    principal = principal_of(context)
    return mentor_id if principal.reads_everything else principal.mentor_id or ""


def _guard_root(name: str, rule: Rule, resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def guarded(source: Any, info: GraphQLResolveInfo[Context], **args: Any) -> Any:
        principal = principal_of(info.context)
        refusal = await rule.refusal(principal, args, info.context)
        if refusal is not None:
            raise Forbidden(f"Not allowed: {name}: {refusal}")
        result = resolve(source, info, **args)
        return await result if isawaitable(result) else result

    return guarded


def _owned_type(graphql_type: GraphQLType) -> str | None:
    """The owned record type a field returns (through lists, non-null and connections)."""
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    if not isinstance(graphql_type, GraphQLObjectType):
        return None
    name = graphql_type.name.removesuffix("Connection")
    return name if name in OWNER_ATTRIBUTE else None


def _records(result: Any) -> Iterable[Any]:
    if isinstance(result, Connection):
        return result.nodes
    if isinstance(result, list):
        return result
    return () if result is None else (result,)


def _check_owner(result: Any, attribute: str, principal: Principal) -> Any:
    for record in _records(result):
        owner = getattr(record, attribute)
        if not principal.is_mentor(owner):
            raise Forbidden(f"Not allowed: {_not_yours(owner)}")
    return result


def _guard_records(attribute: str, resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def checked(awaitable: Awaitable[Any], principal: Principal) -> Any:
        return _check_owner(await awaitable, attribute, principal)

    def guarded(source: Any, info: GraphQLResolveInfo[Context], **args: Any) -> Any:
        principal = info.context.principal
        result = resolve(source, info, **args)
        if principal is not None and principal.reads_everything:
            return result  # staff see every record: no check, no extra await
        principal = principal_of(info.context)
        if isawaitable(result):
            return checked(result, principal)
        return _check_owner(result, attribute, principal)

    return guarded


def install_policy(schema: GraphQLSchema, rules: Mapping[str, Rule] = RULES) -> None:
    """Wrap every root field in its rule and every owned-record field in the owner check."""
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    root_fields = {
        f"{root.name}.{name}": field
        for root in roots
        if root
        for name, field in root.fields.items()
    }
    unguarded = sorted(set(root_fields) - set(rules))
    if unguarded:
        raise RuntimeError(f"no access rule for {', '.join(unguarded)} (graph/access.py RULES)")
    stale = sorted(set(rules) - set(root_fields))
    if stale:
        raise RuntimeError(f"access rules for fields the schema lacks: {', '.join(stale)}")
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            _guard_field(field)
    for name, field in root_fields.items():
        rule = rules[name]
        if name.startswith("Subscription."):
            assert field.subscribe is not None
            field.subscribe = _guard_root(name, rule, field.subscribe)
        else:
            field.resolve = _guard_root(name, rule, field.resolve or default_field_resolver)


def _guard_field(field: GraphQLField) -> None:
    owned = _owned_type(field.type)
    if owned is not None:
        field.resolve = _guard_records(
            OWNER_ATTRIBUTE[owned], field.resolve or default_field_resolver
        )
