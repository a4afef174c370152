"""The app's wiring: identity, relays, feed and the forms, on top of the pure core and the browser adapters."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from pyscript import document, window
from pyscript.ffi import create_proxy

from asknostr import nip01, nip02, nip19, nip65, nip92, subscriptions
from asknostr.browser import crypto, dom, signer, storage
from asknostr.browser.relay_pool import RelayPool
from asknostr.feed import Feed
from asknostr.settings import Settings, initial_settings

SETTINGS_KEY = "settings"
IDENTITY_WAIT = 4.0
"""Seconds to wait for the user's own follow list before allowing edits anyway (a new user has none)."""


class App:
    def __init__(self, me: signer.Signer, settings: Settings) -> None:
        self.me = me
        self.settings = settings
        self.feed = Feed()
        self.pool = RelayPool(self._relay_message, self._relay_state_changed)
        self.feed_view = dom.FeedView(dom.by_id("feed"))
        self.own_profile_event: nip01.Event | None = None
        self._rendered_version = -1
        self._render_pending = False
        self._authors: list[str] = []
        self._proxies: list[Any] = []
        self._tasks: set[asyncio.Future[None]] = set()
        self._identity_eose = asyncio.Event()
        self._replaceable_times: dict[int, int] = {}  # kind -> created_at of the newest own version seen

    # ---- relays → feed -------------------------------------------------------------------------------------------
    def _relay_message(self, _url: str, message: nip01.RelayMessage) -> None:
        if not isinstance(message, nip01.EventMessage):
            if isinstance(message, nip01.EoseMessage):
                if message.subscription_id == subscriptions.IDENTITY_SUBSCRIPTION:
                    self._identity_eose.set()
                self._schedule_render()
            return
        self._ingest(message.event)

    def _ingest(self, raw: object) -> nip01.Event | None:
        dropped = self.feed.dropped
        event = self.feed.ingest(raw, crypto.verify)
        if self.feed.dropped != dropped:
            window.console.warn(f"dropped an event: {self.feed.last_drop_reason}")
            dom.set_text("dropped-count", str(self.feed.dropped))
        if event is None:
            return None
        if event["pubkey"] == self.me.pubkey:
            self._own_event(event)
        self._schedule_render()
        return event

    def _own_event(self, event: nip01.Event) -> None:
        if nip01.is_replaceable(event["kind"]):
            previous = self._replaceable_times.get(event["kind"], -1)
            self._replaceable_times[event["kind"]] = max(previous, event["created_at"])
        if event["kind"] == 3:
            self._update_authors()
        elif event["kind"] == 0:
            if self.own_profile_event is None or event["created_at"] >= self.own_profile_event["created_at"]:
                self.own_profile_event = event
                own = self.feed.profile(self.me.pubkey)
                name_input = dom.by_id("profile-name")
                if own and not name_input.value:
                    name_input.value = own.display_name or own.name
        elif event["kind"] == 10002:
            entries = self.feed.relay_lists.get(self.me.pubkey, [])
            self.pool.set_relays(nip65.merge_relays(list(self.settings.relays), entries))
            self._render_relays()

    def follow_list(self) -> nip02.FollowList:
        return self.feed.follow_lists.get(self.me.pubkey) or nip02.FollowList(follows=())

    def _update_authors(self) -> None:
        authors = sorted({*self.follow_list().pubkeys(), self.me.pubkey})
        if authors != self._authors:
            self._authors = authors
            self.feed.set_authors(authors)
            self.pool.subscribe(subscriptions.FEED_SUBSCRIPTION, subscriptions.feed_filters(authors))
            self._render_following()

    def _relay_state_changed(self) -> None:
        self._render_relays()
        total, open_count = len(self.pool.connections), self.pool.open_count()
        if open_count:
            dom.set_status(f"online · {open_count}/{total} relays", "online")
        else:
            dom.set_status(f"offline · connecting to {total} relays…", "offline")

    # ---- rendering -----------------------------------------------------------------------------------------------
    def _schedule_render(self) -> None:
        if not self._render_pending:
            self._render_pending = True
            asyncio.get_event_loop().call_later(0.05, self._render)

    def _render(self) -> None:
        self._render_pending = False
        if self.feed.version == self._rendered_version:
            return
        self._rendered_version = self.feed.version
        self.feed_view.update(self.feed.visible_posts(), self.feed.label)
        self._render_following()

    def _render_following(self) -> None:
        container = dom.by_id("following-list")
        container.replaceChildren()
        for pubkey in self.follow_list().pubkeys():
            item = dom.el("li", data_pubkey=pubkey)
            item.append(dom.el("span", "name", self.feed.label(pubkey), title=nip19.npub_encode(pubkey)))
            button = dom.el("button", "unfollow", "Unfollow", type="button", data_pubkey=pubkey)
            item.append(button)
            container.append(item)

    def _render_relays(self) -> None:
        container = dom.by_id("relay-list")
        container.replaceChildren()
        for url, connection in self.pool.connections.items():
            item = dom.el("li", data_url=url)
            item.append(dom.el("span", "name mono", url))
            item.append(dom.el("span", "state", connection.state, data_state=connection.state.split(":")[0]))
            if url in self.settings.relays:
                item.append(dom.el("button", "remove-relay", "Remove", type="button", data_url=url))
            container.append(item)

    # ---- publishing ----------------------------------------------------------------------------------------------
    async def publish(self, kind: int, content: str, tags: list[list[str]]) -> str:
        """Sign, check, store locally and send to every relay; returns a one-line report for the UI."""
        created_at = int(time.time())
        if nip01.is_replaceable(kind):
            created_at = nip01.next_created_at(created_at, self._replaceable_times.get(kind))
        template: dict[str, object] = {"kind": kind, "created_at": created_at, "tags": tags, "content": content}
        event = await self.me.sign(template)
        if self._ingest(event) is None and self.feed.last_drop_reason:
            raise ValueError(f"the signer produced an invalid event: {self.feed.last_drop_reason}")
        results = await self.pool.publish(event)
        accepted = [url for url, ok in results.items() if ok.accepted]
        if not accepted:
            reasons = "; ".join(f"{url}: {ok.message}" for url, ok in results.items()) or "no relay configured"
            raise ValueError(f"no relay accepted it ({reasons})")
        return f"published to {len(accepted)}/{len(results)} relays"

    # ---- forms ---------------------------------------------------------------------------------------------------
    def _on(self, element_id: str, event_name: str, handler: Any) -> None:
        def listener(event: Any) -> None:
            event.preventDefault()  # synchronously, or the form submits and the page reloads
            task = asyncio.ensure_future(handler(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        proxy = create_proxy(listener)
        self._proxies.append(proxy)
        dom.by_id(element_id).addEventListener(event_name, proxy)

    async def _guarded(self, result_id: str, action: Any) -> None:
        dom.set_text(result_id, "…")
        try:
            dom.set_text(result_id, await action())
        except ValueError as exc:
            dom.set_text(result_id, str(exc), error=True)

    async def on_post(self, _event: Any) -> None:
        text_input, media_input = dom.by_id("composer-text"), dom.by_id("composer-media")

        async def post() -> str:
            content, media_url = text_input.value.strip(), media_input.value.strip()
            tags: list[list[str]] = []
            if media_url:
                media = nip92.parse_imeta([["imeta", f"url {media_url}"]])
                if not media:
                    raise ValueError("the media URL must start with https:// or http://")
                tags.append(nip92.imeta_tag(media[0]))
                content = f"{content}\n{media_url}".strip()
            if not content:
                raise ValueError("write something first")
            report = await self.publish(1, content, tags)
            text_input.value = media_input.value = ""
            return report

        await self._guarded("composer-result", post)

    async def on_follow(self, _event: Any) -> None:
        follow_input = dom.by_id("follow-input")

        async def follow() -> str:
            pubkey = nip19.pubkey_from_input(follow_input.value)
            if pubkey == self.me.pubkey:
                raise ValueError("that is your own key")
            await self._identity_loaded()
            current = self.follow_list()
            if current.is_following(pubkey):
                return "already following"
            updated = current.follow(pubkey)
            report = await self.publish(3, updated.content, updated.to_tags())
            follow_input.value = ""
            return f"following {nip19.short_npub(pubkey)} · {report}"

        await self._guarded("follow-result", follow)

    async def on_following_click(self, event: Any) -> None:
        target = event.target
        if not target.classList.contains("unfollow"):
            return
        pubkey = str(target.dataset.pubkey)

        async def unfollow() -> str:
            updated = self.follow_list().unfollow(pubkey)
            report = await self.publish(3, updated.content, updated.to_tags())
            return f"unfollowed {nip19.short_npub(pubkey)} · {report}"

        await self._guarded("follow-result", unfollow)

    async def on_profile(self, _event: Any) -> None:
        async def save() -> str:
            name = dom.by_id("profile-name").value.strip()
            if not name:
                raise ValueError("enter a name")
            await self._identity_loaded()
            fields: dict[str, Any] = {}
            if self.own_profile_event:  # keep every field other clients set (picture, about, lud16…)
                try:
                    loaded = json.loads(self.own_profile_event["content"])
                    fields = loaded if isinstance(loaded, dict) else {}
                except ValueError:
                    fields = {}
            fields.update(name=name, display_name=name)
            return await self.publish(0, json.dumps(fields, ensure_ascii=False), [])

        await self._guarded("profile-result", save)

    async def on_import_key(self, _event: Any) -> None:
        async def import_key() -> str:
            secret = nip19.secret_key_from_input(dom.by_id("nsec-input").value)
            await signer.store_secret_key(secret)
            window.location.reload()
            return "key imported: reloading…"

        await self._guarded("key-result", import_key)

    async def on_new_key(self, _event: Any) -> None:
        async def new_key() -> str:
            if not window.confirm("Replace this key with a new one? Save your current nsec first if you need it."):
                return "kept the current key"
            await signer.store_secret_key(crypto.generate_secret_key())
            window.location.reload()
            return "new key: reloading…"

        await self._guarded("key-result", new_key)

    async def on_add_relay(self, _event: Any) -> None:
        relay_input = dom.by_id("relay-input")

        async def add() -> str:
            self.settings = self.settings.with_relay(relay_input.value)
            await self._save_settings()
            relay_input.value = ""
            return "relay added"

        await self._guarded("relay-result", add)

    async def on_relay_click(self, event: Any) -> None:
        target = event.target
        if not target.classList.contains("remove-relay"):
            return
        self.settings = self.settings.without_relay(str(target.dataset.url))
        await self._save_settings()
        dom.set_text("relay-result", "relay removed")

    async def _save_settings(self) -> None:
        await storage.set_text(SETTINGS_KEY, self.settings.to_json())
        entries = self.feed.relay_lists.get(self.me.pubkey, [])
        self.pool.set_relays(nip65.merge_relays(list(self.settings.relays), entries))

    async def _identity_loaded(self) -> None:
        """Before editing replaceable lists, wait (bounded) for the stored copy so nothing is overwritten."""
        try:
            await asyncio.wait_for(self._identity_eose.wait(), IDENTITY_WAIT)
        except TimeoutError:
            window.console.warn("no relay answered for the user's own lists; editing without them")

    def _wire(self) -> None:
        self._on("composer", "submit", self.on_post)
        self._on("follow-form", "submit", self.on_follow)
        self._on("following-list", "click", self.on_following_click)
        self._on("profile-form", "submit", self.on_profile)
        self._on("key-form", "submit", self.on_import_key)
        self._on("new-key", "click", self.on_new_key)
        self._on("relay-form", "submit", self.on_add_relay)
        self._on("relay-list", "click", self.on_relay_click)

        def navigate(event: Any) -> None:
            view = event.target.closest("[data-view]")
            if view:
                dom.show_view(str(view.dataset.view))

        proxy = create_proxy(navigate)
        self._proxies.append(proxy)
        for node in document.querySelectorAll("[data-view]"):
            node.addEventListener("click", proxy)

    def run(self) -> None:
        npub = nip19.npub_encode(self.me.pubkey)
        dom.set_text("npub", nip19.short_npub(self.me.pubkey))
        dom.set_text("npub-full", npub)
        dom.set_text("identity-kind", f"{self.me.kind}:")
        if signer.has_extension():
            dom.set_text("key-result", "Your browser extension holds your key.")
            dom.by_id("import-key").disabled = True
        self._wire()
        self.pool.set_relays(list(self.settings.relays))
        self.pool.subscribe(subscriptions.IDENTITY_SUBSCRIPTION, subscriptions.identity_filters(self.me.pubkey))
        self._update_authors()
        dom.enable_forms()
        self._relay_state_changed()


async def load_server_config() -> object:
    """The serving Bridge's defaults (/config.json; the service worker keeps a copy for offline starts)."""
    try:
        response = await window.fetch("./config.json")
        if not response.ok:
            return None
        return json.loads(str(await response.text()))
    except Exception:
        return None


async def start() -> App | None:
    try:
        dom.set_status("loading keys…", "starting")
        _, saved_text, server_config = await asyncio.gather(
            crypto.ready(), storage.get_text(SETTINGS_KEY), load_server_config()
        )
        settings = initial_settings(Settings.from_json(saved_text), server_config)
        app = App(await signer.load_signer(), settings)
        app.run()
        document.body.dataset.pubkey = app.me.pubkey  # who is signed in, for tests and devtools
        # whether modules were imported from the set-up's precompiled bytecode (a source-only load is slower)
        document.body.dataset.bytecode = "yes" if (nip01.__file__ or "").endswith(".pyc") else "no"
        window.performance.mark("ready")  # time-to-interactive, read by bench/boot_time.py
        return app
    except Exception as exc:
        dom.set_status(f"failed to start: {exc}", "error")
        raise
