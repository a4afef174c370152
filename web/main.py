"""PyScript entry point: put the app package on the path and start it (web/py/asknostr/browser/app.py)."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.abspath("asknostr.zip"))  # web/py/ bundled by the set-up (tools/vendor.py)

from asknostr.browser.app import start

running: set[asyncio.Task[object]] = set()  # a strong reference keeps the app's task alive
running.add(asyncio.ensure_future(start()))
