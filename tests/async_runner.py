"""Run a coroutine to completion from sync test code, on its own loop in a worker thread.

Needed because Playwright's sync API keeps an event loop running on the main thread for the whole session, so
`asyncio.run` there fails once any browser test has started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
