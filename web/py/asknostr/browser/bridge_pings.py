"""Bootstrap pings to the Bridge (NIP-98 signed), queued in IndexedDB and retried with backoff: a post is never
held up or lost because the Bridge is away (asknostr.ping_queue decides when, this sends)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from pyscript import window
from pyscript.ffi import create_proxy

from asknostr.browser import storage
from asknostr.browser.errors import error_text
from asknostr.browser.signed_post import signed_post
from asknostr.browser.signer import Signer
from asknostr.ping_queue import Ping, PingQueue, is_permanent

QUEUE_KEY = "bridge-pings"
TIMEOUT_MS = 330_000  # the Bridge downloads (up to 300 s) and checks the file before it answers


class BridgePinger:
    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.queue = PingQueue()
        self.sent: list[str] = []  # infoHashes the Bridge accepted (shown in tests and devtools)
        self._wake = asyncio.Event()
        self._task: asyncio.Future[None] | None = None
        self._online_proxy: Any = None

    async def start(self) -> None:
        self.queue = PingQueue.from_json(await storage.get_text(QUEUE_KEY))
        self.queue.retry_all_now(time.time())
        self._online_proxy = create_proxy(lambda _event: self._wake.set())
        window.addEventListener("online", self._online_proxy)
        self._task = asyncio.ensure_future(self._run())

    async def add(self, ping: Ping) -> None:
        self.queue.add(ping, time.time())
        await self._save()
        self._wake.set()

    async def _save(self) -> None:
        await storage.set_text(QUEUE_KEY, self.queue.to_json())

    async def _run(self) -> None:
        while True:
            for ping in self.queue.due(time.time()):
                await self._send(ping)
            next_due = self.queue.next_due()
            wait = None if next_due is None else max(0.0, next_due - time.time())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _send(self, ping: Ping) -> None:
        url = ping.bridge.rstrip("/") + "/api/ping"
        try:
            answer = await signed_post(self.signer, url, ping.body(), TIMEOUT_MS)
            if answer.ok:
                self.queue.done(ping.info_hash)
                self.sent.append(ping.info_hash)
            else:
                reason = answer.reason or f"HTTP {answer.status}"
                window.console.warn(f"Bridge ping for {ping.info_hash}: {reason}")
                self.queue.failed(ping.info_hash, reason, time.time(), permanent=is_permanent(answer.status))
        except Exception as exc:  # offline, Bridge down, signer refused: try again later
            error = error_text(exc)
            retry = self.queue.failed(ping.info_hash, error, time.time())
            if retry is not None:
                wait = retry.next_at - time.time()
                window.console.warn(f"Bridge ping for {ping.info_hash}: {error}; next try in {wait:.0f} s")
        await self._save()
