"""A real server process on loopback, for tests that need real sockets (websockets, processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(
    process: subprocess.Popen[bytes], base: str, timeout: float, failure: Callable[[], str]
) -> None:
    """Return once `base`/healthz answers 200; raise RuntimeError(failure()) if the process
    ends first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(failure())
        time.sleep(0.1)


@contextmanager
def running_server(
    database_url: str,
    *,
    timeout: float = 20.0,
    app: str = "api.app:create_app",
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    stop_timeout: float = 10.0,
    output: IO[bytes] | int | None = None,
) -> Iterator[str]:
    """Start `uvicorn <app> --factory` (`workers` processes) on a free port; yields its base URL
    once `/healthz` answers (waiting up to `timeout` seconds). `env` adds to the environment the
    server inherits; `stop_timeout` is how long it may take to stop; `output` takes the server's
    stdout and stderr (default: this process's)."""
    with started_server(
        database_url,
        timeout=timeout,
        app=app,
        workers=workers,
        env=env,
        stop_timeout=stop_timeout,
        output=output,
    ) as (base, _):
        yield base


@contextmanager
def started_server(
    database_url: str,
    *,
    timeout: float = 20.0,
    app: str = "api.app:create_app",
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    stop_timeout: float = 10.0,
    output: IO[bytes] | int | None = None,
    cwd: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`running_server`, also yielding the server's process (benchmarks read its CPU time);
    `cwd` serves the app from another tree (bench/writers.py's earlier build)."""
    port = free_port()
    environment = {**os.environ, **(env or {}), "DATABASE_URL": database_url}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *(["--workers", str(workers)] if workers > 1 else []),
    ]
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=output, stderr=output)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, timeout, lambda: f"server on port {port} did not start")
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=stop_timeout)
