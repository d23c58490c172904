"""Idempotency keys (IETF httpapi idempotency-key draft), kept in the database for 72 hours.

A key is claimed inside the request's write transaction, together with the result it will name
(one INSERT): the first request to claim it does the work, and if the work fails the rollback
takes the claim with it; a retry (same owner, key and request) replays that result; the same key
with a different request is bad input. On PostgreSQL a concurrent retry waits on the key's
unique index until the first request commits, then replays. Expired keys are purged by the
server's own periodic task (`purge_expired_keys`), never inside a request's transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import BadInput, Conflict
from models.database import Database, begin_write, execute_core, is_unavailable
from models.sync import claim_idempotency_key, forget_idempotency_keys, idempotency_record
from models.types import utcnow

KEEP_KEYS_FOR = timedelta(hours=72)
MAX_KEY_LENGTH = 255
PURGE_EVERY_SECONDS = 600.0
# The purge waits this long at most for SQLite's write lock (another process may hold it: the
# CLI import, another worker); a busy database postpones it to the next round.
PURGE_LOCK_WAIT_MS = 250

logger = logging.getLogger("mentor_gateway.idempotency")


async def claim(
    session: AsyncSession, *, scope: str, owner: str, key: str, fingerprint: str, result_id: str
) -> str | None:
    """Claim `key` for this request, whose result will be `result_id` (None is returned), or
    learn the id of the earlier result to replay."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadInput.field("idempotency_key", f"must be 1-{MAX_KEY_LENGTH} characters")
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    dialect = session.get_bind().dialect.name
    statement = claim_idempotency_key(
        dialect, scope=scope, mentor_id=owner, key=key, fingerprint=digest, result_id=result_id
    )
    if (await execute_core(session, statement)).scalar_one_or_none() is not None:
        return None
    found = idempotency_record(scope=scope, mentor_id=owner, key=key)
    record = (await session.execute(found)).scalar_one()
    if record.fingerprint != digest:
        raise BadInput.field("idempotency_key", "was already used with a different request")
    if record.response is None:  # only a row stored by an older version can lack its result
        raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly")
    return str(record.response["id"])


async def purge_expired_keys(database: Database) -> None:
    """Forget keys older than KEEP_KEYS_FOR, in a short transaction of its own."""
    async with database.write_turn(), database.sessions() as session:
        await begin_write(session, wait_ms=PURGE_LOCK_WAIT_MS)
        await session.execute(forget_idempotency_keys(created_before=utcnow() - KEEP_KEYS_FOR))
        await session.commit()


async def purge_periodically(database: Database, every: float = PURGE_EVERY_SECONDS) -> None:
    """Run `purge_expired_keys` now and every `every` seconds until cancelled; an outage or a
    busy database only postpones it."""
    while True:
        try:
            await purge_expired_keys(database)
        except Exception as error:
            if not is_unavailable(error):
                logger.exception("purging expired idempotency keys failed")
        await asyncio.sleep(every)
