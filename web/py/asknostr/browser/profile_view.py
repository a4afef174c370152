"""A person's profile (`#profile=npub1…`, opened from a name or picture anywhere): picture, name, about, NIP-05,
npub with Copy, Follow / Unfollow, and their media posts — followed or not, from a subscription of its own."""

from __future__ import annotations

from typing import Any

from pyscript import document, window
from pyscript.ffi import create_proxy

from asknostr import nip05, nip19, subscriptions
from asknostr.app_routes import profile_of
from asknostr.browser import dom, nip05_lookup
from asknostr.browser.forms import Forms
from asknostr.browser.people import People
from asknostr.browser.relay_pool import RelayPool
from asknostr.browser.viewer import Viewer
from asknostr.feed import Feed


class ProfileView:
    def __init__(self, me: str, feed: Feed, pool: RelayPool, people: People, viewer: Viewer, forms: Forms) -> None:
        self.me, self.feed, self.pool, self.people, self.forms = me, feed, pool, people, forms
        self.pubkey: str | None = None
        self.previous_view = "feed"  # shown again when the profile closes
        self._opened_by_link = False  # opened from within the app: Back is the browser's back
        self._checked: dict[tuple[str, str], str | None] = {}  # (pubkey, nip05) -> nip05.CONFIRMED… (None: asking)
        self._scroll = 0.0  # where the view it was opened from was scrolled to
        self.posts = dom.FeedView(dom.by_id("person-posts"), viewer.stream_url, viewer.observe)
        forms.on("person-follow", "click", self.on_follow)
        forms.on("person-copy", "click", self.on_copy)
        forms.on("person-back", "click", self.on_back)
        self._proxy = create_proxy(lambda _event: self.route(from_link=True))
        window.addEventListener("hashchange", self._proxy)

    def route(self, *, from_link: bool = False) -> None:
        """Open or close the profile as the address's hash says."""
        pubkey = profile_of(str(window.location.hash))
        if pubkey is not None:
            self.open(pubkey, from_link=from_link)
        elif self.pubkey is not None:
            self.close()

    def open(self, pubkey: str, *, from_link: bool) -> None:
        if self.pubkey is None:
            active = document.querySelector(".view.active")
            self.previous_view = str(active.id).removeprefix("view-") if active else "feed"
            self._opened_by_link = from_link
            self._scroll = float(window.scrollY)
        if pubkey != self.pubkey:  # nothing of the last person shows under this one's name, not even for a moment
            dom.by_id("person-picture").removeAttribute("src")
            self.posts.update([], self.feed.label)
            self._checked = {k: v for k, v in self._checked.items() if v != nip05.UNCHECKED}  # asked again
        self.pubkey = pubkey
        self.pool.subscribe(subscriptions.PROFILE_SUBSCRIPTION, subscriptions.profile_filters(pubkey))
        self.feed.watch(pubkey)
        dom.set_text("person-result", "")
        dom.show_view("profile")
        window.scrollTo(0, 0)
        self.render()

    def close(self, view: str | None = None) -> None:
        """The profile is left: for a tab (`view`) or back to the view it was opened from."""
        self.pubkey = None
        self.pool.subscribe(subscriptions.PROFILE_SUBSCRIPTION, [])
        self.feed.watch(None)
        self.posts.update([], self.feed.label)
        if profile_of(str(window.location.hash)) is not None:  # a tab was pressed: the address forgets the profile
            window.history.replaceState(None, "", f"{window.location.pathname}{window.location.search}")
        dom.show_view(view or self.previous_view)
        if view is None:  # back where the user was in the list they came from
            window.scrollTo(0, self._scroll)

    def render(self) -> None:
        pubkey = self.pubkey
        if pubkey is None:
            return
        found = self.feed.profile(pubkey)
        dom.set_text("person-display-name", self.feed.label(pubkey))
        picture = dom.by_id("person-picture")
        src = self.feed.picture(pubkey)
        if src:
            if str(picture.getAttribute("src") or "") != src:
                picture.setAttribute("src", src)
        else:
            picture.removeAttribute("src")
        dom.set_text("person-about", found.about if found else "")
        dom.set_text("person-npub", nip19.npub_encode(pubkey))
        self._render_nip05(pubkey, found.nip05 if found else "")
        button = dom.by_id("person-follow")
        button.hidden = pubkey == self.me
        button.textContent = "Unfollow" if self.people.is_following(pubkey) else "Follow"
        dom.set_text("person-you", "This is you." if pubkey == self.me else "")
        self.posts.update(self.feed.posts_by(pubkey, media_only=True), self.feed.label, self.feed.picture)

    def _render_nip05(self, pubkey: str, identifier: str) -> None:
        node = dom.by_id("person-nip05")
        try:
            parsed = nip05.parse_identifier(identifier) if identifier else None
        except ValueError:
            parsed = None
        if parsed is None:
            node.textContent, node.dataset.state = "", "none"
            return
        key = (pubkey, identifier)
        if key not in self._checked:
            if nip05.checks_on_its_own(parsed, str(window.location.hostname)):
                self._checked[key] = None
                self.forms.tasks.spawn(self._check(key))
            else:
                self._checked[key] = nip05.UNCHECKED
        state = self._checked[key]
        node.textContent, node.dataset.state = nip05.status_text(identifier, state), state or "checking"

    async def _check(self, key: tuple[str, str]) -> None:
        pubkey, identifier = key
        try:
            found = await nip05_lookup.pubkey_of(identifier)
            self._checked[key] = nip05.CONFIRMED if found == pubkey else nip05.REFUSED
        except nip05.CouldNotAsk:
            self._checked[key] = nip05.UNCHECKED
        except Exception:  # the domain's answer names no such key, or is not a nostr.json
            self._checked[key] = nip05.REFUSED
        if self.pubkey == pubkey:
            self.render()

    async def on_follow(self, _event: Any, _form: dict[str, str]) -> None:
        pubkey = self.pubkey
        if pubkey is None:
            return

        async def toggle() -> str:
            if self.people.is_following(pubkey):
                report = await self.people.unfollow(pubkey)
            else:
                report = await self.people.follow(pubkey)
            if self.pubkey != pubkey:  # another profile is open by now: this one's outcome is not said there
                return ""
            return report

        await self.forms.guarded("person-result", toggle)
        self.render()

    async def on_copy(self, _event: Any, _form: dict[str, str]) -> None:
        pubkey = self.pubkey
        if pubkey is None:
            return

        async def copy() -> str:
            await dom.copy_text(nip19.npub_encode(pubkey))
            return "npub copied"

        await self.forms.guarded("person-result", copy)

    async def on_back(self, _event: Any, _form: dict[str, str]) -> None:
        if self._opened_by_link:
            window.history.back()  # the hash goes back too, and `route` closes the profile
        else:
            self.close()
