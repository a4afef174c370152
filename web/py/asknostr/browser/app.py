"""The app's wiring, and nothing else: each panel (a room of its own in this package) is made, given what it
needs, and told of the events that concern it. Policy lives in the pure core (`asknostr.*`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pyscript import document, window
from pyscript.ffi import to_js

from asknostr import ice, nip01, nip02, nip57, nip65, profile, server_config, subscriptions
from asknostr.browser import crypto, dom, resumable_uploads, signer
from asknostr.browser.bridge_pings import BridgePinger
from asknostr.browser.composer import Composer
from asknostr.browser.feed_panel import FeedPanel
from asknostr.browser.forms import Forms
from asknostr.browser.ice_servers import IceServers
from asknostr.browser.identity_panel import IdentityPanel
from asknostr.browser.people import People
from asknostr.browser.profile_view import ProfileView
from asknostr.browser.publisher import Publisher
from asknostr.browser.relay_pool import RelayPool
from asknostr.browser.relays_panel import RelaysPanel
from asknostr.browser.servers_panel import ServersPanel
from asknostr.browser.settings_store import SettingsStore, load_saved
from asknostr.browser.storage_panel import StoragePanel
from asknostr.browser.swarm_orchestrator import SwarmOrchestrator
from asknostr.browser.viewer import Viewer
from asknostr.feed import Feed
from asknostr.media_servers import KIND_BLOSSOM_SERVERS, KIND_NIP96_SERVERS
from asknostr.server_config import ServerConfig
from asknostr.settings import Settings, initial_settings

HEALTH_REFRESH = 3.0


class App:
    def __init__(self, me: signer.Signer, settings: Settings, config: ServerConfig) -> None:
        self.me = me
        self.settings = SettingsStore(settings)
        self.feed = Feed()
        self.forms = Forms()
        self.pool = RelayPool(self._relay_message, lambda: self.relays.state_changed())
        current = self.settings

        self.viewer = Viewer(
            trackers=lambda: list(current.current.trackers),
            memory_cap=lambda: current.current.auto_seed_cap,
            adopt=lambda *file: self.swarm.adopt(*file, playing=True),
        )
        self.swarm = SwarmOrchestrator(
            me,
            config.bridge_url,
            trackers=lambda: list(current.current.trackers),
            following=lambda: set(self.people.follow_list().pubkeys()),
            quota=lambda: current.current.quota_bytes,
            size_cap=lambda: current.current.auto_seed_cap,
            heartbeat_interval=config.heartbeat_interval,
            changed=self._swarm_changed,
        )
        self.feed_panel = FeedPanel(me.pubkey, self.feed, self.viewer, self.swarm, self.forms)
        self.publisher = Publisher(me, self.feed, self.pool, self._ingest)
        self.relays = RelaysPanel(me.pubkey, self.feed, self.pool, self.settings, self.forms)
        self.servers = ServersPanel(config.bridge_media_url, self.settings, self.publisher, self.forms)
        self.storage = StoragePanel(self.settings, self.forms)
        self.identity = IdentityPanel(me, self.feed, self.publisher, self.forms)
        self.people = People(me.pubkey, self.feed, self.pool, self.publisher, self.forms, self._authors_changed)
        self.profile = ProfileView(me.pubkey, self.feed, self.pool, self.people, self.viewer, self.forms)
        self.feed_panel.names_wanted = self._names_wanted
        self.feed_panel.also_render += [self.people.render, self.identity.render, self.profile.render]
        self.pinger = BridgePinger(me)
        self.composers = [
            Composer(
                prefix,
                community=community,
                signer=me,
                pinger=self.pinger,
                providers=self.servers.storage_providers,
                trackers=lambda: list(current.current.trackers),
                bridge_url=config.bridge_url,
                publish=self.publisher.publish_template,
                max_file_bytes=config.max_file_bytes,
                seeded=lambda info_hash, creator: self.swarm.own_upload(info_hash, creator),
            )
            for prefix, community in (("", False), ("community-", True))
        ]
        for composer in self.composers:
            self.forms.on(composer.prefix + "composer", "submit", composer.on_submit)

    # ---- events from relays (and the user's own, as published) to the panels they concern ----------------------
    def _relay_message(self, _url: str, message: nip01.RelayMessage) -> None:
        if isinstance(message, nip01.EventMessage):
            self._ingest(message.event)
        elif isinstance(message, nip01.EoseMessage):
            if message.subscription_id == subscriptions.IDENTITY_SUBSCRIPTION:
                self.publisher.identity_answered()
            self.feed_panel.schedule_render()

    def _ingest(self, raw: object) -> nip01.Event | None:
        event = self.feed_panel.ingest(raw)
        if event is None:
            return None
        kind = event["kind"]
        if event["pubkey"] == self.me.pubkey:
            self.publisher.own_event(event)
            if kind == nip02.KIND_FOLLOW_LIST:
                self.people.update_authors()
            elif kind == profile.KIND_METADATA:
                self.identity.own_profile(event)
            elif kind == nip65.KIND_RELAY_LIST:
                self.relays.apply()
            elif kind in (KIND_BLOSSOM_SERVERS, KIND_NIP96_SERVERS):
                self.servers.own_event(event)
        elif kind in (1, 1063):
            self.swarm.on_event(event)  # a followed creator's media: joined and seeded
        elif kind == nip57.KIND_ZAP_RECEIPT:
            creator = nip57.zapped_creator(event, self.me.pubkey, crypto.verify)
            if creator:
                self.swarm.zapped.add(creator)
        return event

    def _authors_changed(self) -> None:
        for post in self.feed.visible_posts():  # posts already here of someone just followed
            self.swarm.on_event(post)

    def _names_wanted(self, shown: list[str]) -> None:
        skip = {*self.people.follow_list().pubkeys(), self.me.pubkey}  # the feed's subscription has their names
        self.pool.subscribe(subscriptions.NAMES_SUBSCRIPTION, subscriptions.names_filters(shown, skip))

    def _swarm_changed(self) -> None:
        self.feed_panel.schedule_render(force=True)  # redraw the seeding marks
        self.forms.tasks.spawn(self.storage.refresh())

    def _navigate(self, event: Any) -> None:
        view = event.target.closest("[data-view]")
        if view:
            name = str(view.dataset.view)
            if self.profile.pubkey is not None:
                self.profile.close(name)
            else:
                dom.show_view(name)

    # ---- start -----------------------------------------------------------------------------------------------------
    def run(self) -> None:
        self.forms.tasks.spawn(self._restore_feed())  # before the relays: IndexedDB answers first
        self.identity.show()
        self.forms.on_nodes("[data-view]", "click", self._navigate)
        self.relays.apply()
        self.pool.subscribe(subscriptions.IDENTITY_SUBSCRIPTION, subscriptions.identity_filters(self.me.pubkey))
        self.pool.subscribe(subscriptions.COMMUNITY_SUBSCRIPTION, subscriptions.community_filters())
        self.pool.subscribe(subscriptions.ZAPS_SUBSCRIPTION, subscriptions.zap_filters(self.me.pubkey))
        self.people.update_authors()
        self.servers.render()
        self.storage.show_settings()
        dom.enable_forms()
        self.relays.state_changed()
        self.profile.route()  # an address that names a profile opens it
        self.forms.tasks.spawn(self.pinger.start())
        self.forms.tasks.spawn(self._start_swarm())
        # uploads a reload interrupted go on from the server's offset (the file is the one kept for seeding)
        self.forms.tasks.spawn(resumable_uploads.resume_all(self.me, resumable_uploads.say_in("composer-result")))

    async def _restore_feed(self) -> None:
        restored = await self.feed_panel.restore(self._ingest)
        document.body.dataset.restored = str(restored)  # for tests and devtools

    async def _start_swarm(self) -> None:
        await self.feed_panel.load_favourites()
        resumed = await self.swarm.start()
        document.body.dataset.resumed = str(resumed)  # for tests and devtools
        while True:
            await self.storage.refresh()
            await asyncio.sleep(HEALTH_REFRESH)


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
        _, saved_text, raw_config = await asyncio.gather(crypto.ready(), load_saved(), load_server_config())
        config = server_config.parse(raw_config, str(window.location.origin))
        settings = initial_settings(Settings.from_json(saved_text), config.raw or None)
        me = await signer.load_signer()
        # before any torrent: the deployment's STUN servers now, a TURN credential as soon as the Bridge gives one
        ice_servers = IceServers(me, config.bridge_url, ice.stun_servers(config.stun), config.turn)
        app = App(me, settings, config)
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
