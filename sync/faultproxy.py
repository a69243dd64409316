"""A fault-injecting TCP proxy for loopback tests (the OctoPrint virtual-printer idea, for the network).

It sits between a kiosk and central, both on 127.0.0.1, and gives every request/response exchange
a fate drawn from a seeded RNG:
    pass          forward both ways
    delay         forward, sleeping before every chunk
    drop          close the client connection politely (FIN) before forwarding anything
    reset_before  abort the client connection with a TCP RST before forwarding anything
    reset_after   forward the request, then RST the client when central answers (answer lost
                  after central committed: the case that needs idempotent ingest)
    truncate      forward the request and half of the first answer chunk, then close
    half_open     forward the request, swallow the answer, keep the client connection open
                  and silent (only the client's timeout ends it)
    blackhole     swallow the request, never answer, keep the connection open
An exchange starts when the client sends bytes after the previous answer began, so keep-alive
connections get a new fate per request.  Counters of fates are in `stats`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
import struct
import threading
from collections import Counter

FATES = ("pass", "delay", "drop", "reset_before", "reset_after", "truncate", "half_open", "blackhole")
DEFAULT_WEIGHTS = {"pass": 0.45, "delay": 0.15, "drop": 0.06, "reset_before": 0.06, "reset_after": 0.08,
                   "truncate": 0.06, "half_open": 0.07, "blackhole": 0.07}
CHUNK = 65536


class _Done(Exception):
    pass


def _loopback(host: str) -> str:
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the fault proxy is for loopback only, not {host!r}")
    return host


def _rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class FaultProxy:
    def __init__(self, upstream_port: int, *, weights: dict[str, float] | None = None, seed: int = 0,
                 delay_s: tuple[float, float] = (0.02, 0.3), upstream_host: str = "127.0.0.1",
                 listen_host: str = "127.0.0.1") -> None:
        self.upstream = (_loopback(upstream_host), upstream_port)
        self.listen_host = _loopback(listen_host)
        weights = dict(weights or DEFAULT_WEIGHTS)
        unknown = set(weights) - set(FATES)
        if unknown:
            raise ValueError(f"unknown fates: {sorted(unknown)}")
        self._fates, self._weights = zip(*weights.items())
        self._rng = random.Random(seed)
        self._delay = delay_s
        self.stats: Counter[str] = Counter()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------- lifecycle

    def start(self) -> int:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.listen_host, 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self.port

    def stop(self) -> None:
        if self._loop is None or self._loop.is_closed():
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._conns):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()  # type: ignore[union-attr]

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> "FaultProxy":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.listen_host}:{self.port}"

    # ------------------------------------------------------------- one connection

    def _roll(self) -> str:
        fate = self._rng.choices(self._fates, self._weights)[0]
        self.stats[fate] += 1
        return fate

    async def _sleep(self) -> None:
        await asyncio.sleep(self._rng.uniform(*self._delay))

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self._conns.add(cwriter)
        uwriter = None
        try:
            try:
                ureader, uwriter = await asyncio.open_connection(*self.upstream)
            except OSError:
                _rst(cwriter)  # central is down: the client sees a refused/reset connection
                return
            state = {"fate": "pass", "waiting": False}
            up = asyncio.ensure_future(self._client_to_upstream(creader, cwriter, uwriter, state))
            down = asyncio.ensure_future(self._upstream_to_client(ureader, cwriter, state))
            # Silent fates never finish `down`, so only the client's own close ends those.
            _, pending = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        except (ConnectionError, _Done):
            pass
        finally:
            self._conns.discard(cwriter)
            for writer in (cwriter, uwriter):
                if writer is not None and not writer.transport.is_closing():
                    writer.transport.close()

    async def _client_to_upstream(self, creader, cwriter, uwriter, state) -> None:
        try:
            while data := await creader.read(CHUNK):
                if not state["waiting"]:  # a new request begins
                    state["fate"], state["waiting"] = self._roll(), True
                    if state["fate"] == "reset_before":
                        _rst(cwriter)
                        return
                    if state["fate"] == "drop":
                        cwriter.close()
                        return
                if state["fate"] == "blackhole":
                    continue
                if state["fate"] == "delay":
                    await self._sleep()
                uwriter.write(data)
                await uwriter.drain()
        except ConnectionError:
            return

    async def _upstream_to_client(self, ureader, cwriter, state) -> None:
        try:
            while data := await ureader.read(CHUNK):
                fate = state["fate"]
                if fate == "reset_after":
                    _rst(cwriter)
                    return
                if fate == "truncate":
                    cwriter.write(data[: max(1, len(data) // 2)])
                    await cwriter.drain()
                    cwriter.close()
                    return
                if fate == "half_open":
                    continue  # swallowed; the client waits for an answer that never comes
                if fate == "delay":
                    await self._sleep()
                cwriter.write(data)
                await cwriter.drain()
                state["waiting"] = False
        except ConnectionError:
            return
        # central closed its side: for a silent fate keep the client hanging, else pass the close on
        if state["fate"] in ("half_open", "blackhole"):
            await asyncio.Event().wait()
