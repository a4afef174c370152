"""Background tasks of an adapter: each kept referenced until it ends (asyncio holds tasks only weakly), and a
failure logged to the console under the owner's name instead of vanishing."""

from __future__ import annotations

import asyncio
from typing import Any

from pyscript import window


class Background:
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            window.console.error(f"{self.owner}: {task.exception()!r}")
