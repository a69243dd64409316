"""A minimal HTTP/1.1 client for the load generators (heartbeats, ingest), loopback only.

The generators share the machine's cores with the central they measure, so every
microsecond they spend is taken from the server: this writes one request and reads one
`Content-Length` answer (what uvicorn sends for our routes), nothing more.  Kiosks use
httpx (sync/client.py); this is not for them.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024


class RawHttpError(Exception):
    """The server answered with something this client does not read (or closed early)."""


class RawConnection:
    """One keep-alive connection; `post` may be called again after each answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader, self._writer, self._host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> RawConnection:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEAD)
        return cls(reader, writer, f"{host}:{port}")

    async def post(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        lines = [f"POST {target} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise RawHttpError("connection closed or header too long before an answer") from exc
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            raise RawHttpError(f"bad status line {status_line[:80]!r}") from None
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise RawHttpError("answer without Content-Length")
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass


async def post_once(url: str, target: str, headers: dict[str, str], body: bytes, *,
                    timeout_s: float = 60.0) -> tuple[int, bytes]:
    """One request on a new connection (a kiosk beating once a minute has no warm keep-alive);
    a server that stalls longer than `timeout_s` is an error, not a hung bench."""
    async def exchange() -> tuple[int, bytes]:
        conn = await RawConnection.open(url)
        try:
            return await conn.post(target, {**headers, "Connection": "close"}, body)
        finally:
            await conn.close()
    try:
        return await asyncio.wait_for(exchange(), timeout_s)
    except asyncio.TimeoutError:
        raise RawHttpError(f"no answer within {timeout_s} s") from None
