"""PyScript entry point: start the app (web/py/asknostr/browser/app.py) on Pyodide's event loop."""

import asyncio

from asknostr.browser.app import start

app_task = asyncio.ensure_future(start())
