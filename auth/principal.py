"""The caller, as the rest of the service sees it: a subject, a role, and the mentor it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """The three roles of README "Access control"; a higher one can do all a lower one can."""

    MENTOR = "mentor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


_ROLE_NAMES = frozenset(role.value for role in Role)
_RANK = {Role.MENTOR: 1, Role.COORDINATOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True, kw_only=True)
class Principal:
    """An authenticated caller. `role` is None for a valid token naming no role of this service:
    it is someone, but may do nothing (every field is FORBIDDEN)."""

    subject: str
    role: Role | None
    mentor_id: str | None = None
    expires_at: float | None = None  # the token's `exp`, seconds since the epoch

    @property
    def reads_everything(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    def is_mentor(self, mentor_id: str | None) -> bool:
        """Whether this caller is the mentor `mentor_id` (a mentor reading their own rows)."""
        return self.mentor_id is not None and mentor_id == self.mentor_id


# Development without AUTH_* settings: every request acts as this (start-up says so, loudly).
DEVELOPMENT_ADMIN = Principal(subject="development", role=Role.ADMIN)


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at a dotted `path` (`realm_access.roles`), or None where any step is missing."""
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def highest_role(names: object) -> Role | None:
    """The highest role of this service named in a token's role claim (a list of strings); names
    it does not know are other services' roles and are ignored."""
    if not isinstance(names, list | tuple):
        return None
    known = [
        Role(name) for name in names if isinstance(name, str) and name in Role.__members__.values()
    ]
    return max(known, key=_RANK.__getitem__, default=None)


def principal_from_claims(claims: Mapping[str, Any], *, roles_claim: str) -> Principal:
    """The principal a verified token's claims describe: roles at `roles_claim`, the mentor id
    from `mentor_id`, else `sub` (docs: README "Access control")."""
    subject = claims.get("sub")
    mentor_id = claims.get("mentor_id", subject)
    expires = claims.get("exp")
    return Principal(
        subject=str(subject),
        role=highest_role(claim_at(claims, roles_claim)),
        mentor_id=mentor_id if isinstance(mentor_id, str) and mentor_id else None,
        expires_at=float(expires) if isinstance(expires, int | float) else None,
    )
