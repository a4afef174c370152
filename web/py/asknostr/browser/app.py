"""The app's wiring: identity, relays, feed and the forms, on top of the pure core and the browser adapters."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from pyscript import document, window
from pyscript.ffi import create_proxy, to_js

from asknostr import ice, media_servers, nip01, nip02, nip05, nip19, nip57, nip65, nip92, subscriptions
from asknostr.browser import crypto, dom, nip05_lookup, signer, storage, torrents
from asknostr.browser.background import Background
from asknostr.browser.bridge_pings import BridgePinger
from asknostr.browser.composer import Composer
from asknostr.browser.errors import error_text
from asknostr.browser.ice_servers import IceServers
from asknostr.browser.relay_pool import RelayPool
from asknostr.browser.swarm_orchestrator import SwarmOrchestrator
from asknostr.browser.viewer import Viewer
from asknostr.feed import Feed
from asknostr.media_servers import KIND_BLOSSOM_SERVERS, KIND_NIP96_SERVERS, MediaServer
from asknostr.settings import Settings, initial_settings
from asknostr.upload_tally import UploadTally

SETTINGS_KEY = "settings"
DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024
"""Largest file posted when the Bridge does not say its own limit (files are hashed in memory)."""
FAVOURITES_KEY = "favourites"
DEFAULT_HEARTBEAT_INTERVAL = 60.0
HEALTH_REFRESH = 3.0
UPLOADED_KEY = "uploaded-total"  # bytes given to the swarm by earlier pages (asknostr.upload_tally)
IDENTITY_WAIT = 4.0
"""Seconds to wait for the user's own follow list before allowing edits anyway (a new user has none)."""


class Unchanged(Exception):
    """An edit that would change nothing (already following…): said to the user, nothing published."""


class App:
    def __init__(
        self,
        me: signer.Signer,
        settings: Settings,
        bridge_url: str,
        max_file_bytes: int,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        *,
        bridge_media_url: str = "",
    ) -> None:
        self.me = me
        self.settings = settings
        self.bridge_url = bridge_url
        self.bridge_media_url = bridge_media_url or bridge_url  # the Bridge's Blossom server: the blobs' own origin
        self.feed = Feed()
        self.pool = RelayPool(self._relay_message, self._relay_state_changed)
        self.viewer = Viewer(
            trackers=lambda: list(self.settings.trackers),
            memory_cap=lambda: self.settings.auto_seed_cap,
            adopt=lambda *file: self.swarm.adopt(*file, playing=True),
        )
        self.feed_view = dom.FeedView(dom.by_id("feed"), self.viewer.stream_url, self.viewer.observe)
        self.community_view = dom.FeedView(dom.by_id("community-feed"), self.viewer.stream_url, self.viewer.observe)
        self.pinger = BridgePinger(me)
        self.composers = {
            prefix: Composer(
                prefix,
                community=community,
                signer=me,
                pinger=self.pinger,
                providers=self.storage_providers,
                trackers=lambda: list(self.settings.trackers),
                bridge_url=bridge_url,
                publish=self.publish_template,
                max_file_bytes=max_file_bytes,
                seeded=lambda info_hash, creator: self.swarm.own_upload(info_hash, creator),
            )
            for prefix, community in (("", False), ("community-", True))
        }
        self.swarm = SwarmOrchestrator(
            me,
            bridge_url,
            trackers=lambda: list(self.settings.trackers),
            following=lambda: set(self.follow_list().pubkeys()),
            quota=lambda: self.settings.quota_bytes,
            size_cap=lambda: self.settings.auto_seed_cap,
            heartbeat_interval=heartbeat_interval,
            changed=self._swarm_changed,
        )
        self.own_lists: dict[int, nip01.Event] = {}  # the newest kind 10063 / 10096 event of the user
        self.own_profile_event: nip01.Event | None = None
        self._rendered_version = -1
        self._render_pending = False
        self._authors: list[str] = []
        self._proxies: list[Any] = []
        self._tasks = Background("app")
        self._uploads: UploadTally | None = None  # read from IndexedDB at the first look at the swarm
        self._identity_eose = asyncio.Event()  # set on every EOSE of the identity subscription
        self._edit_lock = asyncio.Lock()  # one edit of a replaceable list at a time: read, build, sign, send
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
        elif event["kind"] in (1, 1063):
            self.swarm.on_event(event)  # a followed creator's media: joined and seeded
        elif event["kind"] == nip57.KIND_ZAP_RECEIPT:
            creator = nip57.zapped_creator(event, self.me.pubkey, crypto.verify)
            if creator:
                self.swarm.zapped.add(creator)
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
                self._render_identity()
        elif event["kind"] == 10002:
            self.pool.set_relays(self._relay_urls())
            self._render_relays()
        elif event["kind"] in (KIND_BLOSSOM_SERVERS, KIND_NIP96_SERVERS):
            kept = self.own_lists.get(event["kind"])
            if kept is None or nip02.supersedes(event["created_at"], event["id"], kept["created_at"], kept["id"]):
                self.own_lists[event["kind"]] = event
                self._render_servers()

    def follow_list(self) -> nip02.FollowList:
        return self.feed.follow_lists.get(self.me.pubkey) or nip02.FollowList(follows=())

    def _update_authors(self) -> None:
        authors = sorted({*self.follow_list().pubkeys(), self.me.pubkey})
        if authors != self._authors:
            self._authors = authors
            self.feed.set_authors(authors)
            self.pool.subscribe(subscriptions.FEED_SUBSCRIPTION, subscriptions.feed_filters(authors))
            self._render_following()
            for post in self.feed.visible_posts():  # posts already here of someone just followed
                self.swarm.on_event(post)

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
        self.feed_view.update(self.feed.visible_posts(), self.feed.label, self.feed.picture)
        self.community_view.update(self.feed.community_posts(), self.feed.label, self.feed.picture)
        dom.mark_seeding(self.swarm.seeding_for, self.feed.label, self.me.pubkey)
        dom.mark_favourites(self.swarm.favourites)
        self._render_following()
        self._render_identity()

    def _render_identity(self) -> None:
        """The header's chip: the user's name once their profile has one (else the short npub)."""
        dom.set_text("npub", self.feed.label(self.me.pubkey))

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
        template: dict[str, object] = {"kind": kind, "created_at": int(time.time()), "tags": tags, "content": content}
        _, report = await self.publish_template(template)
        return report

    async def publish_template(self, template: dict[str, object]) -> tuple[nip01.Event, str]:
        """Sign `template` and publish it; the signed event and a one-line report for the UI."""
        kind = int(str(template["kind"]))
        if nip01.is_replaceable(kind):
            created_at = int(str(template.get("created_at", int(time.time()))))
            template = {**template, "created_at": nip01.next_created_at(created_at, self._replaceable_times.get(kind))}
        event = await self.me.sign(template)
        if event.get("pubkey") != self.me.pubkey:
            raise ValueError("the signer used another key than this session's (account switched?): not sent")
        dropped = self.feed.dropped
        self._ingest(event)
        if self.feed.dropped != dropped:
            raise ValueError(f"the signer produced an invalid event: {self.feed.last_drop_reason}")
        results = await self.pool.publish(event)
        accepted = [url for url, ok in results.items() if ok.accepted]
        if accepted:
            return event, f"published to {len(accepted)}/{len(results)} relays"
        if self.pool.is_pending(event["id"]):
            return event, "saved: it goes out when a relay is reachable again"
        reasons = "; ".join(f"{url}: {ok.message}" for url, ok in results.items()) or "no relay configured"
        raise ValueError(f"no relay accepted it ({reasons})")

    async def edit_replaceable(self, kind: int, build: Any) -> str:
        """Publish a new version of one of the user's lists (kind 0 or 3), built from the newest stored version.

        Never from a guess: the relays must first have answered with what they store, and edits run one at a
        time, so a follow, a quick second follow and an unfollow each start from the one before.
        """
        async with self._edit_lock:
            await self._identity_loaded()
            content, tags = build()
            return await self.publish(kind, content, tags)

    # ---- forms ---------------------------------------------------------------------------------------------------
    def _on(self, element_id: str, event_name: str, handler: Any) -> None:
        def listener(event: Any) -> None:
            event.preventDefault()  # synchronously, or the form submits and the page reloads
            # what the user submitted, read now: by the time the handler runs they may be typing the next one
            form = {str(node.id): str(node.value) for node in document.querySelectorAll("input[id], textarea[id]")}
            self._tasks.spawn(handler(event, form))

        proxy = create_proxy(listener)
        self._proxies.append(proxy)
        dom.by_id(element_id).addEventListener(event_name, proxy)

    async def _guarded(self, result_id: str, action: Any) -> None:
        dom.set_text(result_id, "…")
        try:
            dom.set_text(result_id, await action())
        except Unchanged as exc:
            dom.set_text(result_id, str(exc))
        except ValueError as exc:
            dom.set_text(result_id, str(exc), error=True)
        except Exception as exc:  # a JS error (signer refused, storage full…): said, never a frozen "…"
            dom.set_text(result_id, f"failed: {error_text(exc)}", error=True)

    async def on_post(self, prefix: str, form: dict[str, str]) -> None:
        """Either composer: the feed's (prefix "") or the community's ("community-")."""
        files_input = dom.by_id(f"{prefix}composer-files")
        files = list(files_input.files)

        async def post() -> str:
            content, media_url = form[f"{prefix}composer-text"].strip(), form[f"{prefix}composer-media"].strip()
            extra: list[nip92.Media] = []
            if media_url:
                media = nip92.parse_imeta([["imeta", f"url {media_url}"]])
                if not media:
                    raise ValueError("the media URL must start with https:// or http://")
                extra = media
            if not content and not files and not extra:
                raise ValueError("write something first")
            report = await self.composers[prefix].post(content, files, extra)
            dom.clear_if_unchanged(form, f"{prefix}composer-text", f"{prefix}composer-media")
            files_input.value = ""
            return report

        composer = self.composers[prefix]
        if not composer.begin():
            return  # a second press while the first post is under way
        try:
            await self._guarded(f"{prefix}composer-result", post)
        finally:
            composer.end()

    # ---- media servers ---------------------------------------------------------------------------------------------
    def editable_servers(self) -> list[MediaServer]:
        """The user's servers as the upload order has them (settings, then their published lists), no Bridge."""
        return media_servers.storage_providers(
            self.settings.media_servers,
            media_servers.server_list(self.own_lists.get(KIND_BLOSSOM_SERVERS), "server"),
            media_servers.server_list(self.own_lists.get(KIND_NIP96_SERVERS), "server"),
            None,
        )

    def storage_providers(self) -> list[MediaServer]:
        """getStorageProvider(): where a file is uploaded, in order; the Bridge last."""
        return [*self.editable_servers(), MediaServer(media_servers.BLOSSOM, self.bridge_media_url, bridge=True)]

    def _render_servers(self) -> None:
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

    async def _edit_servers(self, change: Any) -> str:
        """Apply `change` (list → list) to the servers as the relays have them — after the user's published lists
        have arrived, so that another client's servers are not dropped — keep the result in the settings, then
        publish it as kind 10063 (Blossom) and 10096 (NIP-96)."""
        await self._identity_loaded()
        servers: list[MediaServer] = change(self.editable_servers())
        self.settings = self.settings.with_media_servers(servers)
        await self._save_settings()
        self._render_servers()
        reports = []
        lists = ((KIND_BLOSSOM_SERVERS, media_servers.BLOSSOM), (KIND_NIP96_SERVERS, media_servers.NIP96))
        for kind, protocol in lists:
            urls = [s.url for s in servers if s.protocol == protocol]
            if urls == media_servers.server_list(self.own_lists.get(kind), "server"):
                continue
            reports.append(await self.edit_replaceable(kind, lambda urls=urls: ("", [["server", u] for u in urls])))
        return "saved" + (f" · {reports[-1]}" if reports else "")

    async def on_add_server(self, _event: Any, form: dict[str, str]) -> None:
        protocol = str(dom.by_id("server-protocol").value)

        async def add() -> str:
            server = MediaServer(protocol, media_servers.normalize_server_url(form["server-input"]))
            if server.url == media_servers.normalize_server_url(self.bridge_media_url):
                raise Unchanged("the Bridge is always tried last already")

            def change(current: list[MediaServer]) -> list[MediaServer]:
                if any(s.url == server.url for s in current):
                    raise Unchanged("already in the list")
                return [*current, server]

            report = await self._edit_servers(change)
            dom.clear_if_unchanged(form, "server-input")
            return report

        await self._guarded("server-result", add)

    async def on_server_click(self, event: Any, _form: dict[str, str]) -> None:
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

        await self._guarded("server-result", lambda: self._edit_servers(change))

    async def on_follow(self, _event: Any, form: dict[str, str]) -> None:
        async def follow() -> str:
            text = form["follow-input"]
            if nip05.looks_like_identifier(text):
                pubkey = await nip05_lookup.pubkey_of(text)
            else:
                pubkey = nip19.pubkey_from_input(text)
            if pubkey == self.me.pubkey:
                raise ValueError("that is your own key")

            def build() -> tuple[str, list[list[str]]]:
                current = self.follow_list()
                if current.is_following(pubkey):
                    raise Unchanged("already following")
                updated = current.follow(pubkey)
                return updated.content, updated.to_tags()

            report = await self.edit_replaceable(3, build)
            dom.clear_if_unchanged(form, "follow-input")
            return f"following {nip19.short_npub(pubkey)} · {report}"

        await self._guarded("follow-result", follow)

    async def on_following_click(self, event: Any, _form: dict[str, str]) -> None:
        target = event.target
        if not target.classList.contains("unfollow"):
            return
        pubkey = str(target.dataset.pubkey)

        def build() -> tuple[str, list[list[str]]]:
            current = self.follow_list()
            if not current.is_following(pubkey):
                raise Unchanged("not following")
            updated = current.unfollow(pubkey)
            return updated.content, updated.to_tags()

        async def unfollow() -> str:
            report = await self.edit_replaceable(3, build)
            return f"unfollowed {nip19.short_npub(pubkey)} · {report}"

        await self._guarded("follow-result", unfollow)

    async def on_copy_npub(self, _event: Any, _form: dict[str, str]) -> None:
        async def copy() -> str:
            await window.navigator.clipboard.writeText(nip19.npub_encode(self.me.pubkey))
            return "your npub is copied: give it to people who want to follow you"

        await self._guarded("profile-result", copy)

    async def on_profile(self, _event: Any, form: dict[str, str]) -> None:
        name = form["profile-name"].strip()

        def build() -> tuple[str, list[list[str]]]:
            fields: dict[str, Any] = {}
            if self.own_profile_event:  # keep every field other clients set (picture, about, lud16…)
                try:
                    loaded = json.loads(self.own_profile_event["content"])
                    fields = loaded if isinstance(loaded, dict) else {}
                except ValueError:
                    fields = {}
            fields.update(name=name, display_name=name)
            return json.dumps(fields, ensure_ascii=False), []

        async def save() -> str:
            if not name:
                raise ValueError("enter a name")
            return await self.edit_replaceable(0, build)

        await self._guarded("profile-result", save)

    async def on_import_key(self, _event: Any, form: dict[str, str]) -> None:
        async def import_key() -> str:
            secret = nip19.secret_key_from_input(form["nsec-input"])
            if secret == getattr(self.me, "secret_hex", None):
                return "that is already your key"
            question = "Replace the key in this browser with the imported one? Without its nsec, the old one is lost."
            if not window.confirm(question):
                return "kept the current key"
            await signer.store_secret_key(secret)
            window.location.reload()
            return "key imported: reloading…"

        await self._guarded("key-result", import_key)

    async def on_new_key(self, _event: Any, _form: dict[str, str]) -> None:
        async def new_key() -> str:
            if not window.confirm("Replace this key with a new one? Save your current nsec first (Show my nsec)."):
                return "kept the current key"
            await signer.store_secret_key(crypto.generate_secret_key())
            window.location.reload()
            return "new key: reloading…"

        await self._guarded("key-result", new_key)

    async def on_reveal_key(self, _event: Any, _form: dict[str, str]) -> None:
        async def reveal() -> str:
            secret = getattr(self.me, "secret_hex", None)
            if not secret:
                raise ValueError("your browser extension holds your key; this app never sees it")
            return f"your nsec (keep it secret, keep it safe): {nip19.nsec_encode(secret)}"

        await self._guarded("key-result", reveal)

    async def on_add_relay(self, _event: Any, form: dict[str, str]) -> None:
        async def add() -> str:
            self.settings = self.settings.with_relay(form["relay-input"])
            await self._save_settings()
            dom.clear_if_unchanged(form, "relay-input")
            return "relay added"

        await self._guarded("relay-result", add)

    async def on_relay_click(self, event: Any, _form: dict[str, str]) -> None:
        target = event.target
        if not target.classList.contains("remove-relay"):
            return
        self.settings = self.settings.without_relay(str(target.dataset.url))
        await self._save_settings()
        dom.set_text("relay-result", "relay removed")

    async def _save_settings(self) -> None:
        await storage.set_text(SETTINGS_KEY, self.settings.to_json())
        self.pool.set_relays(self._relay_urls())

    def _relay_urls(self) -> list[str]:
        """The relays of the settings, always, plus the ones the user's NIP-65 list names for reading and for
        writing (posts must reach the write relays, where followers look for them)."""
        entries = self.feed.relay_lists.get(self.me.pubkey, [])
        listed = nip65.merge_relays([], entries, for_reading=True) + nip65.merge_relays([], entries, for_reading=False)
        return list(dict.fromkeys([*self.settings.relays, *listed]))

    async def _identity_loaded(self) -> None:
        """Wait until every open relay has sent the user's stored lists (bounded by IDENTITY_WAIT); refuse to
        edit when none has, since the edit would replace the user's list with a shorter one."""
        deadline = time.monotonic() + IDENTITY_WAIT
        while True:
            answered, open_count = self.pool.eose_count(subscriptions.IDENTITY_SUBSCRIPTION)
            remaining = deadline - time.monotonic()
            if (answered and answered >= open_count) or remaining <= 0:
                break
            self._identity_eose.clear()
            try:
                await asyncio.wait_for(self._identity_eose.wait(), remaining)
            except TimeoutError:
                break
        if not answered:
            raise ValueError("none of your relays has answered yet, so your current list is unknown: nothing changed")

    def _wire(self) -> None:
        self._on("composer", "submit", lambda _event, form: self.on_post("", form))
        self._on("community-composer", "submit", lambda _event, form: self.on_post("community-", form))
        self._on("servers-form", "submit", self.on_add_server)
        self._on("server-list", "click", self.on_server_click)
        self._on("feed", "click", self.on_feed_click)
        self._on("storage-form", "submit", self.on_storage)
        self._on("community-feed", "click", self.on_feed_click)
        self._on("follow-form", "submit", self.on_follow)
        self._on("following-list", "click", self.on_following_click)
        self._on("profile-form", "submit", self.on_profile)
        self._on("key-form", "submit", self.on_import_key)
        self._on("new-key", "click", self.on_new_key)
        self._on("reveal-key", "click", self.on_reveal_key)
        self._on("copy-npub", "click", self.on_copy_npub)
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
        self.pool.set_relays(self._relay_urls())
        self.pool.subscribe(subscriptions.IDENTITY_SUBSCRIPTION, subscriptions.identity_filters(self.me.pubkey))
        self.pool.subscribe(subscriptions.COMMUNITY_SUBSCRIPTION, subscriptions.community_filters())
        self.pool.subscribe(subscriptions.ZAPS_SUBSCRIPTION, subscriptions.zap_filters(self.me.pubkey))
        self._update_authors()
        self._render_servers()
        dom.by_id("quota-input").value = str(round(self.settings.quota_bytes / 1e6))
        dom.by_id("cap-input").value = str(round(self.settings.auto_seed_cap / 1e6))
        dom.enable_forms()
        self._relay_state_changed()
        self._tasks.spawn(self.pinger.start())
        self._tasks.spawn(self._start_swarm())

    async def on_storage(self, _event: Any, form: dict[str, str]) -> None:
        async def save() -> str:
            self.settings = self.settings.with_storage(form["quota-input"], form["cap-input"])
            await self._save_settings()
            quota, cap = self.settings.quota_bytes / 1e6, self.settings.auto_seed_cap / 1e6
            return f"saved: {quota:.0f} MB, files up to {cap:.0f} MB shared automatically"

        await self._guarded("storage-result", save)

    async def on_feed_click(self, event: Any, _form: dict[str, str]) -> None:
        """A star on a post: its creator becomes a favourite (or stops being one)."""
        target = event.target
        if not target.classList.contains("star"):
            return
        pubkey = str(target.dataset.pubkey)
        self.swarm.favourites ^= {pubkey}
        await storage.set_json(FAVOURITES_KEY, sorted(self.swarm.favourites))
        dom.mark_favourites(self.swarm.favourites)

    async def _start_swarm(self) -> None:
        try:
            saved = await storage.get_json(FAVOURITES_KEY)
        except Exception as exc:  # storage refused: no favourites, but the swarm starts (it holds events till then)
            window.console.warn(f"favourites not read: {error_text(exc)}")
            saved = None
        self.swarm.favourites = {p for p in saved if isinstance(p, str)} if isinstance(saved, list) else set()
        resumed = await self.swarm.start()
        document.body.dataset.resumed = str(resumed)  # for tests and devtools
        while True:
            try:
                await self._render_health()
            except Exception as exc:  # one failed look at the swarm: the next one may do
                window.console.warn(f"swarm health not shown: {error_text(exc)}")
            await asyncio.sleep(HEALTH_REFRESH)

    def _swarm_changed(self) -> None:
        self._rendered_version = -1  # redraw the dots
        self._schedule_render()
        self._tasks.spawn(self._render_health())

    async def _render_health(self) -> None:
        items = await torrents.seeding()
        kept = sum(k.size for k in await torrents.kept())
        if self._uploads is None:
            stored = await storage.get_json(UPLOADED_KEY)
            self._uploads = UploadTally(before=stored if isinstance(stored, int) and stored > 0 else 0)
        tally = self._uploads.update({str(t["infoHash"]): int(t.get("uploaded", 0)) for t in items})
        if tally.total != self._uploads.total:
            await storage.set_json(UPLOADED_KEY, tally.total)
        self._uploads = tally
        uploaded = tally.total
        seeding = sum(1 for t in items if t.get("done"))
        quota = self.settings.quota_bytes
        dom.set_text(
            "swarm-health",
            f"Seeding {seeding} · {kept / 1e6:.1f} of {quota / 1e6:.0f} MB · uploaded {uploaded / 1e6:.1f} MB",
        )
        bar = dom.by_id("swarm-quota")
        bar.value = min(kept, quota)
        bar.max = quota


async def load_server_config() -> object:
    """The serving Bridge's defaults (/config.json; the service worker keeps a copy for offline starts)."""
    try:
        options = to_js({"signal": window.AbortSignal.timeout(3000)}, dict_converter=window.Object.fromEntries)
        response = await window.fetch("./config.json", options)  # bounded: a half-dead network must not hang boot
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
        config = server_config if isinstance(server_config, dict) else {}
        bridge = config.get("bridge")
        bridge_url = bridge if isinstance(bridge, str) and bridge else str(window.location.origin)
        media = config.get("bridge_media")
        bridge_media_url = media if isinstance(media, str) and media else bridge_url
        limit = config.get("max_upload_bytes")
        max_file_bytes = limit if isinstance(limit, int) and limit > 0 else DEFAULT_MAX_FILE_BYTES
        interval = config.get("heartbeat_interval")
        heartbeat = (
            float(interval) if isinstance(interval, int | float) and interval > 0 else DEFAULT_HEARTBEAT_INTERVAL
        )
        me = await signer.load_signer()
        # before any torrent: the deployment's STUN servers now, a TURN credential as soon as the Bridge gives one
        ice_servers = IceServers(
            me, bridge_url, ice.stun_servers(config.get("ice_servers")), config.get("turn") is True
        )
        app = App(
            me,
            settings,
            bridge_url,
            max_file_bytes,
            heartbeat,
            bridge_media_url=bridge_media_url,
        )
        await ice_servers.start()  # before the torrents resumed at start make their first offers
        app.run()
        document.body.dataset.pubkey = app.me.pubkey  # who is signed in, for tests and devtools
        # whether modules were imported from the set-up's precompiled bytecode (a source-only load is slower)
        document.body.dataset.bytecode = "yes" if (nip01.__file__ or "").endswith(".pyc") else "no"
        window.performance.mark("ready")  # time-to-interactive, read by bench/boot_time.py
        return app
    except Exception as exc:
        dom.set_status(f"failed to start: {exc}", "error")
        raise
