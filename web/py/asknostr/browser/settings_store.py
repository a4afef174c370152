"""The user's settings (relays, trackers, media servers, storage quota): the current ones for every panel, and
each change kept in IndexedDB, then told to whoever depends on it (the relay pool)."""

from __future__ import annotations

from collections.abc import Callable

from asknostr.browser import storage
from asknostr.settings import Settings

SETTINGS_KEY = "settings"


async def load_saved() -> str | None:
    return await storage.get_text(SETTINGS_KEY)


class SettingsStore:
    def __init__(self, settings: Settings) -> None:
        self.current = settings
        self.listeners: list[Callable[[], None]] = []

    async def save(self, settings: Settings) -> None:
        self.current = settings
        await storage.set_text(SETTINGS_KEY, settings.to_json())
        for listener in self.listeners:
            listener()
