"""The Bridge in the test process, on its own event loop thread, with a clock the test moves."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from bridge.config import BridgeConfig
from bridge.http_app import make_app
from bridge.swarm import SWARM_KEY, SwarmKeeper

T = TypeVar("T")


@dataclass
class Clock:
    """The real time, plus whatever the test has advanced it by."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class InProcessBridge:
    """`with InProcessBridge(config) as bridge:` serves `make_app(config, clock=bridge.clock)` on ports of its own
    (`bridge.url`, `bridge.media_url`; config's ports are replaced)."""

    def __init__(self, config: BridgeConfig) -> None:
        # bound now, port chosen by the kernel: no race with another process for a "free" port
        self.sock, self.media_sock = socket.socket(), socket.socket()
        self.sock.bind((config.host, 0))
        self.media_sock.bind((config.host, 0))
        ports = {"port": self.sock.getsockname()[1], "media_port": self.media_sock.getsockname()[1]}
        self.config = dataclasses.replace(config, **ports)
        self.clock = Clock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bridge", daemon=True)
        self.app: web.Application | None = None
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The app's origin: the PWA and the API."""
        return self.config.app_url()

    @property
    def media_url(self) -> str:
        """The blobs' origin: Blossom."""
        return self.config.blossom_url()

    @property
    def keeper(self) -> SwarmKeeper:
        assert self.app is not None
        return self.app[SWARM_KEY]

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run `coroutine` on the Bridge's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self) -> None:
        self.app = make_app(self.config, clock=self.clock, media_socket=self.media_sock)
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def __enter__(self) -> InProcessBridge:
        self.thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()
