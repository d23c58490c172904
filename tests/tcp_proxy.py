"""A TCP proxy on loopback that a test can cut, to play a database outage for real.

`refuse()` drops every connection and stops listening (connects get ECONNREFUSED), `hang()` keeps
every socket open but forwards nothing (a frozen server or a partition: only timeouts notice),
`cut_on(marker)` lets traffic through until a client sends `marker`, which never arrives: the
proxy refuses (or hangs) from then on. `restore()` drops whatever the outage left and forwards again, on
the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["open", "refuse", "hang"]
CHUNK = 64 * 1024


@dataclass(eq=False)
class _Pipe:
    """One client connection and its upstream one (None while hanging: never opened)."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()  # RST, as a crashed server or a dropped route does


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = host
        self.port = 0
        self.mode: Mode = "open"
        self.accepted = 0  # client connections accepted, in any mode
        self._server: asyncio.Server | None = None
        self._pipes: set[_Pipe] = set()
        self._marker: bytes | None = None
        self._then: Mode = "refuse"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._drop_all()
        await self._stop_listening()

    async def __aenter__(self) -> TcpProxy:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def url(self, database_url: str) -> str:
        """`database_url` (host:port of the target) rewritten to go through this proxy."""
        return database_url.replace(
            f"@{self.target_host}:{self.target_port}/", f"@{self.host}:{self.port}/"
        )

    async def refuse(self) -> None:
        """Every connection dropped; new ones refused (nothing listens on the port)."""
        self.mode = "refuse"
        self._drop_all()
        await self._stop_listening()

    async def hang(self) -> None:
        """Every byte swallowed, in both directions, on old and new connections alike."""
        self.mode = "hang"
        if self._server is None:
            await self.start()

    def cut_on(self, marker: bytes, *, then: Literal["refuse", "hang"] = "refuse") -> None:
        """Refuse (or hang) from the moment a client sends `marker`; that chunk is never
        forwarded."""
        self._marker = marker
        self._then = then

    async def restore(self) -> None:
        """Forward again; connections the outage left behind are dropped, as a restarted
        server or a healed partition would leave them."""
        self._marker = None
        self._drop_all()
        self.mode = "open"
        if self._server is None:
            await self.start()

    def _drop_all(self) -> None:
        for pipe in list(self._pipes):
            pipe.close()
        self._pipes.clear()

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        pipe = _Pipe(writer)
        self._pipes.add(pipe)
        if self.mode != "open":
            return  # hang: hold the socket, read nothing, answer nothing
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            pipe.close()
            self._pipes.discard(pipe)
            return
        pipe.upstream = up_writer
        pipe.tasks = [
            asyncio.create_task(self._forward(pipe, reader, up_writer, watch=True)),
            asyncio.create_task(self._forward(pipe, up_reader, writer, watch=False)),
        ]

    async def _forward(
        self,
        pipe: _Pipe,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        watch: bool,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                if watch and self._marker is not None and self._marker in data:
                    self._marker = None
                    if self._then == "hang":
                        self.mode = "hang"
                        continue
                    asyncio.get_running_loop().create_task(self.refuse())
                    return
                if self.mode == "hang":
                    continue  # swallowed
                writer.write(data)
                await writer.drain()
        if self.mode == "open":  # one side closed: close the other, as a real socket pair does
            pipe.close()
            self._pipes.discard(pipe)
