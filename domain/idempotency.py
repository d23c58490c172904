"""Idempotency keys (IETF httpapi idempotency-key draft), kept in the database for 72 hours.

A key is claimed inside the request's write transaction: the first request to claim it does the
work and remembers its result; a retry (same owner, key and request) replays that result; the
same key with a different request is bad input. On PostgreSQL a concurrent retry waits on the
key's unique index until the first request commits, then replays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import BadInput, Conflict
from models.sync import (
    IdempotencyRecord,
    claim_idempotency_key,
    forget_idempotency_keys,
    idempotency_record,
)
from models.types import utcnow

KEEP_KEYS_FOR = timedelta(hours=72)
MAX_KEY_LENGTH = 255


@dataclass
class Claim:
    """The key's record; `replay_of` names the earlier result when this request is a retry."""

    record: IdempotencyRecord
    replay_of: str | None

    def remember(self, result_id: str) -> None:
        self.record.response = {"id": result_id}


async def claim(
    session: AsyncSession, *, scope: str, owner: str, key: str, fingerprint: str
) -> Claim:
    """Claim `key` for this request, or learn which earlier result to replay."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadInput.field("idempotency_key", f"must be 1-{MAX_KEY_LENGTH} characters")
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    await session.execute(forget_idempotency_keys(created_before=utcnow() - KEEP_KEYS_FOR))
    dialect = session.get_bind().dialect.name
    statement = claim_idempotency_key(
        dialect, scope=scope, mentor_id=owner, key=key, fingerprint=digest
    )
    inserted = (await session.execute(statement)).scalar_one_or_none() is not None
    found = idempotency_record(scope=scope, mentor_id=owner, key=key)
    record = (await session.execute(found)).scalar_one()
    if inserted:
        return Claim(record, replay_of=None)
    if record.fingerprint != digest:
        raise BadInput.field("idempotency_key", "was already used with a different request")
    if record.response is None:
        raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly")
    return Claim(record, replay_of=str(record.response["id"]))
