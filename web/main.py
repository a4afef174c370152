"""PyScript entry point: start the app (web/py/asknostr/browser/app.py) on Pyodide's event loop."""

import asyncio

from asknostr.browser.app import start

running: set[asyncio.Task[object]] = set()  # a strong reference keeps the app's task alive
running.add(asyncio.ensure_future(start()))
