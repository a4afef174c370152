"""Settings > Media servers: where a post's files are uploaded, in order (asknostr.media_servers), the Bridge
last; adding, moving up and removing one, kept in the settings and published as the user's server lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asknostr import media_servers, nip01, nip02
from asknostr.browser import dom
from asknostr.browser.forms import Forms, Unchanged
from asknostr.browser.publisher import Build, Publisher
from asknostr.browser.settings_store import SettingsStore
from asknostr.media_servers import KIND_BLOSSOM_SERVERS, KIND_NIP96_SERVERS, MediaServer

Change = Callable[[list[MediaServer]], list[MediaServer]]


class ServersPanel:
    def __init__(self, bridge_media_url: str, settings: SettingsStore, publisher: Publisher, forms: Forms) -> None:
        self.bridge_media_url = bridge_media_url
        self.settings, self.publisher, self.forms = settings, publisher, forms
        self.own_lists: dict[int, nip01.Event] = {}  # the newest kind 10063 / 10096 event of the user
        forms.on("servers-form", "submit", self.on_add)
        forms.on("server-list", "click", self.on_click)

    def own_event(self, event: nip01.Event) -> None:
        """One of the user's server lists, from a relay or just published."""
        kept = self.own_lists.get(event["kind"])
        if kept is None or nip02.supersedes(event["created_at"], event["id"], kept["created_at"], kept["id"]):
            self.own_lists[event["kind"]] = event
            self.render()

    def editable_servers(self) -> list[MediaServer]:
        """The user's servers as the upload order has them (settings, then their published lists), no Bridge."""
        return media_servers.storage_providers(
            self.settings.current.media_servers,
            media_servers.server_list(self.own_lists.get(KIND_BLOSSOM_SERVERS), "server"),
            media_servers.server_list(self.own_lists.get(KIND_NIP96_SERVERS), "server"),
            None,
        )

    def storage_providers(self) -> list[MediaServer]:
        """getStorageProvider(): where a file is uploaded, in order; the Bridge last."""
        return [*self.editable_servers(), MediaServer(media_servers.BLOSSOM, self.bridge_media_url, bridge=True)]

    def render(self) -> None:
        container = dom.by_id("server-list")
        container.replaceChildren()
        for index, server in enumerate(self.storage_providers()):
            item = dom.el("li", data_url=server.url)
            item.append(dom.el("span", "name mono", server.url))
            item.append(dom.el("span", "state", "Bridge (last resort)" if server.bridge else server.protocol))
            if not server.bridge:
                if index:
                    item.append(dom.el("button", "move-server", "Up", type="button", data_index=str(index)))
                item.append(dom.el("button", "remove-server", "Remove", type="button", data_index=str(index)))
            container.append(item)

    async def _edit(self, change: Change) -> str:
        """Apply `change` to the servers as the relays have them — after the user's published lists have
        arrived, so that another client's servers are not dropped — keep the result in the settings, then publish
        the lists that changed (kind 10063 Blossom, 10096 NIP-96)."""
        await self.publisher.identity_loaded()
        servers = change(self.editable_servers())
        await self.settings.save(self.settings.current.with_media_servers(servers))
        self.render()
        reports = []
        for kind, tags in media_servers.changed_lists(servers, self.own_lists):
            reports.append(await self.publisher.edit_replaceable(kind, _list_content(tags)))
        return "saved" + (f" · {reports[-1]}" if reports else "")

    async def on_add(self, _event: Any, form: dict[str, str]) -> None:
        protocol = str(dom.by_id("server-protocol").value)

        async def add() -> str:
            server = MediaServer(protocol, media_servers.normalize_server_url(form["server-input"]))
            if server.url == media_servers.normalize_server_url(self.bridge_media_url):
                raise Unchanged("the Bridge is always tried last already")

            def change(current: list[MediaServer]) -> list[MediaServer]:
                if any(s.url == server.url for s in current):
                    raise Unchanged("already in the list")
                return [*current, server]

            report = await self._edit(change)
            dom.clear_if_unchanged(form, "server-input")
            return report

        await self.forms.guarded("server-result", add)

    async def on_click(self, event: Any, _form: dict[str, str]) -> None:
        target = event.target
        remove = target.classList.contains("remove-server")
        if not (remove or target.classList.contains("move-server")):
            return
        url = str(target.closest("li").dataset.url)  # by URL: the list may have changed since it was drawn

        def change(current: list[MediaServer]) -> list[MediaServer]:
            index = next((i for i, s in enumerate(current) if s.url == url), None)
            if index is None:
                raise Unchanged("that server is no longer in the list")
            if remove:
                return current[:index] + current[index + 1 :]
            if index > 0:
                current[index - 1], current[index] = current[index], current[index - 1]
            return current

        await self.forms.guarded("server-result", lambda: self._edit(change))


def _list_content(tags: list[list[str]]) -> Build:
    return lambda: ("", tags)
