"""Settings > Relays, and the status line: which relays the app uses (the settings', plus the user's NIP-65
list), each one's state, adding and removing one."""

from __future__ import annotations

from typing import Any

from asknostr import nip65
from asknostr.browser import dom
from asknostr.browser.forms import Forms
from asknostr.browser.relay_pool import RelayPool
from asknostr.browser.settings_store import SettingsStore
from asknostr.feed import Feed


class RelaysPanel:
    def __init__(self, me: str, feed: Feed, pool: RelayPool, settings: SettingsStore, forms: Forms) -> None:
        self.me, self.feed, self.pool, self.settings, self.forms = me, feed, pool, settings, forms
        settings.listeners.append(self.apply)
        forms.on("relay-form", "submit", self.on_add)
        forms.on("relay-list", "click", self.on_click)

    def relay_urls(self) -> list[str]:
        """The relays of the settings, always, plus the ones the user's NIP-65 list names for reading and for
        writing (posts must reach the write relays, where followers look for them)."""
        entries = self.feed.relay_lists.get(self.me, [])
        listed = nip65.merge_relays([], entries, for_reading=True) + nip65.merge_relays([], entries, for_reading=False)
        return list(dict.fromkeys([*self.settings.current.relays, *listed]))

    def apply(self) -> None:
        """Connect to the relays as the settings and the user's relay list now have them."""
        self.pool.set_relays(self.relay_urls())
        self.render()

    def state_changed(self) -> None:
        self.render()
        total, open_count = len(self.pool.connections), self.pool.open_count()
        if open_count:
            dom.set_status(f"online · {open_count}/{total} relays", "online")
        else:
            dom.set_status(f"offline · connecting to {total} relays…", "offline")

    def render(self) -> None:
        container = dom.by_id("relay-list")
        container.replaceChildren()
        for url, connection in self.pool.connections.items():
            item = dom.el("li", data_url=url)
            item.append(dom.el("span", "name mono", url))
            item.append(dom.el("span", "state", connection.state, data_state=connection.state.split(":")[0]))
            if url in self.settings.current.relays:
                item.append(dom.el("button", "remove-relay", "Remove", type="button", data_url=url))
            container.append(item)

    async def on_add(self, _event: Any, form: dict[str, str]) -> None:
        async def add() -> str:
            await self.settings.save(self.settings.current.with_relay(form["relay-input"]))
            dom.clear_if_unchanged(form, "relay-input")
            return "relay added"

        await self.forms.guarded("relay-result", add)

    async def on_click(self, event: Any, _form: dict[str, str]) -> None:
        target = event.target
        if not target.classList.contains("remove-relay"):
            return
        await self.settings.save(self.settings.current.without_relay(str(target.dataset.url)))
        dom.set_text("relay-result", "relay removed")
