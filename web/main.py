"""Entry point, run by static/js/boot.js once Pyodide is up: put the app package on the path and start it
(web/py/asknostr/browser/app.py).

The app's browser modules import `window`, `document`, `ffi` and `js_modules` from `pyscript`, the API of PyScript,
which booted the app before boot.js did. Only that much of it is used, so it is made here from Pyodide's own API
(the same behaviour: `to_js` turns dicts into JS objects, `is_none` knows JS null) instead of loading PyScript.
"""

import asyncio
import os
import sys
import types
from typing import Any

import _boot_js_modules  # type: ignore[import-not-found]  # registered by boot.js: the modules of pyscript.json
import js
from pyodide.ffi import create_proxy, jsnull
from pyodide.ffi import to_js as _to_js

js.performance.mark("python")  # Python runs: the runtime, the app's files and its JS modules are loaded


def to_js(value: Any, **options: Any) -> Any:
    options.setdefault("dict_converter", js.Object.fromEntries)
    return _to_js(value, **options)


def is_none(value: Any) -> bool:
    return value is None or value is jsnull


ffi = types.ModuleType("pyscript.ffi")
ffi.__dict__.update(create_proxy=create_proxy, to_js=to_js, is_none=is_none)
pyscript = types.ModuleType("pyscript")
pyscript.__dict__.update(window=js, document=js.document, ffi=ffi, js_modules=_boot_js_modules)
sys.modules.update({"pyscript": pyscript, "pyscript.ffi": ffi, "pyscript.js_modules": _boot_js_modules})

sys.path.insert(0, os.path.abspath("asknostr.zip"))  # web/py/ bundled by the set-up (tools/vendor.py)

from asknostr.browser.app import start  # noqa: E402  (after the path is set)

js.performance.mark("imported")  # the app's modules are imported (bench/boot_time.py shows where boot time goes)

running: set[asyncio.Task[object]] = set()  # a strong reference keeps the app's task alive
running.add(asyncio.ensure_future(start()))
