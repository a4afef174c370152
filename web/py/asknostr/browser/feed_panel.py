"""The feeds on screen: the followed people's posts and the #asknostr community's, redrawn at most every 50 ms
as events arrive, with each post's marks (seeding, favourite star); and the stars themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pyscript import document, window
from pyscript.ffi import create_proxy

from asknostr import nip01
from asknostr.browser import crypto, dom, feed_cache, storage
from asknostr.browser.errors import error_text
from asknostr.browser.forms import Forms
from asknostr.browser.swarm_orchestrator import SwarmOrchestrator
from asknostr.browser.viewer import Viewer
from asknostr.feed import Feed
from asknostr.feed_cache import FeedCache

FAVOURITES_KEY = "favourites"
RENDER_DELAY = 0.05
SAVE_DELAY = 3.0  # the shown feed is kept for the next start at most this long after it changed


class FeedPanel:
    def __init__(self, me: str, feed: Feed, viewer: Viewer, swarm: SwarmOrchestrator, forms: Forms) -> None:
        self.me, self.feed, self.swarm = me, feed, swarm
        self.views = [
            (dom.FeedView(dom.by_id("feed"), viewer.stream_url, viewer.observe), feed.visible_posts),
            (dom.FeedView(dom.by_id("community-feed"), viewer.stream_url, viewer.observe), feed.community_posts),
        ]
        self.names_wanted: Callable[[list[str]], None] = lambda _authors: None  # who is shown, top first
        self.also_render: list[Callable[[], None]] = []  # other panels showing names or lists (following, profile…)
        self.cache = FeedCache()  # the signed originals of what is shown, kept for the next start
        self._rendered_version = -1
        self._render_pending = False
        self._save_pending = False
        self._restored = False  # nothing is stored before the stored feed is read: it would replace it
        self._tasks = forms.tasks
        # a phone may end a hidden app without warning: what is shown is kept when the app is hidden
        self._hidden = create_proxy(lambda _e: self._tasks.spawn(self.save()) if document.hidden else None)
        document.addEventListener("visibilitychange", self._hidden)
        for element_id in ("feed", "community-feed", "person-posts"):
            forms.on(element_id, "click", self.on_click, keep_default=True)  # links in posts still open

    def ingest(self, raw: object) -> nip01.Event | None:
        """Verify and file one event; the event when new and valid (dropped ones are counted on screen)."""
        dropped = self.feed.dropped
        event = self.feed.ingest(raw, crypto.verify)
        if self.feed.dropped != dropped:
            window.console.warn(f"dropped an event: {self.feed.last_drop_reason}")
            dom.set_text("dropped-count", str(self.feed.dropped))
        if event is not None:
            self.cache.note(event)
            self.schedule_render()
        return event

    async def restore(self, ingest: Callable[[object], object]) -> int:
        """The last session's feed, shown before any relay answers: each stored event goes through `ingest`
        (the signature check included) as if a relay had sent it. How many were accepted."""
        try:
            raws = await feed_cache.load(self.me)
        except Exception as exc:  # storage refused: the relays fill the feed as before
            window.console.warn(f"last feed not read: {error_text(exc)}")
            raws = []
        accepted = sum(1 for raw in raws if ingest(raw) is not None)
        self._restored = True
        window.performance.mark("feed-restored")
        return accepted

    def _schedule_save(self) -> None:
        if not self._save_pending:
            self._save_pending = True
            asyncio.get_event_loop().call_later(SAVE_DELAY, lambda: self._tasks.spawn(self.save()))

    async def save(self) -> None:
        self._save_pending = False
        if not self._restored:
            return
        await feed_cache.save(self.me, self.cache.snapshot(self.feed.visible_posts(), self.me))

    def schedule_render(self, *, force: bool = False) -> None:
        if force:
            self._rendered_version = -1  # redraw the marks even though no event changed
        if not self._render_pending:
            self._render_pending = True
            asyncio.get_event_loop().call_later(RENDER_DELAY, self.render)

    def render(self) -> None:
        self._render_pending = False
        if self.feed.version == self._rendered_version:
            return
        self._rendered_version = self.feed.version
        shown: list[str] = []
        for view, posts in self.views:
            events = posts()
            shown += [e["pubkey"] for e in events]
            view.update(events, self.feed.label, self.feed.picture)
        self.names_wanted(shown)
        for render in self.also_render:
            render()
        dom.mark_seeding(self.swarm.seeding_for, self.feed.label, self.me)
        dom.mark_favourites(self.swarm.favourites)
        self._schedule_save()

    async def load_favourites(self) -> None:
        try:
            saved = await storage.get_json(FAVOURITES_KEY)
        except Exception as exc:  # storage refused: no favourites, but the swarm starts (it holds events till then)
            window.console.warn(f"favourites not read: {error_text(exc)}")
            saved = None
        self.swarm.favourites = {p for p in saved if isinstance(p, str)} if isinstance(saved, list) else set()

    async def on_click(self, event: Any, _form: dict[str, str]) -> None:
        """A star on a post: its creator becomes a favourite (or stops being one)."""
        target = event.target
        if not target.classList.contains("star"):
            return
        pubkey = str(target.dataset.pubkey)
        self.swarm.favourites ^= {pubkey}
        await storage.set_json(FAVOURITES_KEY, sorted(self.swarm.favourites))
        dom.mark_favourites(self.swarm.favourites)
