"""`python -m bridge`: run the Bridge."""

from __future__ import annotations

import asyncio
import faulthandler
import signal
import sys
from collections.abc import AsyncIterator

from aiohttp import web

from bridge.config import parse_args
from bridge.http_app import make_app


async def dump_tasks_on_usr2(_app: web.Application) -> AsyncIterator[None]:
    """`kill -USR2 <pid>`: where every asyncio task waits, to stderr (a request that never ends)."""

    def dump() -> None:
        for task in asyncio.all_tasks():
            task.print_stack(file=sys.stderr)
        sys.stderr.flush()

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, dump)
    yield


def main() -> None:
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>`: every thread's stack to stderr (a hang, a deadlock)
    config = parse_args()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        app = make_app(config)
    except ValueError as exc:
        sys.exit(f"bridge: {exc}")
    print(f"Blobs (Blossom) on their own origin: {config.blossom_url()}", flush=True)
    app.cleanup_ctx.append(dump_tasks_on_usr2)
    web.run_app(app, host=config.host, port=config.port, print=print, shutdown_timeout=2)


if __name__ == "__main__":
    main()
