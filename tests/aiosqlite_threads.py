"""Waiting out aiosqlite's worker threads before a test's event loop closes.

When aiosqlite fails to open a file it stops its worker thread without waiting for it; the
thread then posts its last result to the event loop, which (at the end of a test) may be
closed: "Event loop is closed" in a thread, a PytestUnhandledThreadExceptionWarning. Tests that
make connects fail (a missing file) call this after disposing their Database.
"""

from __future__ import annotations

import asyncio
import threading
import time

WORKER = "(_connection_worker_thread)"  # how threading names aiosqlite's Thread(target=...)


async def settle_aiosqlite_threads(within: float = 1.0) -> None:
    """Give stopping aiosqlite threads up to `within` s to finish; threads of connections still
    open elsewhere keep running, and are only waited for until the deadline."""
    deadline = time.monotonic() + within
    for thread in threading.enumerate():
        if thread.name.endswith(WORKER):
            await asyncio.to_thread(thread.join, max(0.0, deadline - time.monotonic()))
