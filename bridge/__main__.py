"""`python -m bridge`: run the Bridge."""

from __future__ import annotations

import faulthandler
import signal

from aiohttp import web

from bridge.config import parse_args
from bridge.http_app import make_app


def main() -> None:
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>`: every thread's stack to stderr (a hang, a deadlock)
    config = parse_args()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    web.run_app(make_app(config), host=config.host, port=config.port, print=print, shutdown_timeout=2)


if __name__ == "__main__":
    main()
