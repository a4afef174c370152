"""PyScript entry point: put the app package on the path and start it (web/py/asknostr/browser/app.py)."""

import asyncio
import os
import sys

import js

js.performance.mark("python")  # Python runs: the runtime, the app's files and its JS modules are loaded
sys.path.insert(0, os.path.abspath("asknostr.zip"))  # web/py/ bundled by the set-up (tools/vendor.py)

from asknostr.browser.app import start  # noqa: E402  (after the path is set)

js.performance.mark("imported")  # the app's modules are imported (bench/boot_time.py shows where boot time goes)

running: set[asyncio.Task[object]] = set()  # a strong reference keeps the app's task alive
running.add(asyncio.ensure_future(start()))
