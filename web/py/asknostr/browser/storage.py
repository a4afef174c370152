"""Small key-value persistence in IndexedDB (npm idb-keyval), values stored as JSON text."""

from __future__ import annotations

import json
from typing import Any

from pyscript import window
from pyscript.js_modules import idb_keyval


async def get_text(key: str) -> str | None:
    value = await idb_keyval.get(key)
    return value if isinstance(value, str) else None


async def set_text(key: str, value: str) -> None:
    await idb_keyval.set(key, value)


async def get_json(key: str) -> Any:
    text = await get_text(key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


async def set_json(key: str, value: Any) -> None:
    await set_text(key, json.dumps(value))


async def delete(key: str) -> None:
    await getattr(idb_keyval, "del")(key)  # idb-keyval calls it `del`


def ask_to_persist() -> None:
    """Ask the browser to keep this origin's storage under pressure (granted to installed apps); not awaited,
    the answer does not change what the app does."""
    storage = getattr(window.navigator, "storage", None)
    if storage is not None and hasattr(storage, "persist"):
        storage.persist()
