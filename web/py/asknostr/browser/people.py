"""The people you follow: the Following view (follow by name@domain, npub or hex; unfollow), and the follow
list that decides whose posts the feed shows and whose media this browser seeds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asknostr import nip02, nip05, nip19, subscriptions
from asknostr.app_routes import profile_route
from asknostr.browser import dom, nip05_lookup
from asknostr.browser.forms import Forms, Unchanged
from asknostr.browser.publisher import Publisher
from asknostr.browser.relay_pool import RelayPool
from asknostr.feed import Feed


class People:
    def __init__(
        self,
        me: str,
        feed: Feed,
        pool: RelayPool,
        publisher: Publisher,
        forms: Forms,
        authors_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.me, self.feed, self.pool, self.publisher, self.forms = me, feed, pool, publisher, forms
        self.authors_changed = authors_changed  # told when the feed's authors change (the swarm joins their posts)
        self._authors: list[str] = []
        forms.on("follow-form", "submit", self.on_follow)
        forms.on("following-list", "click", self.on_list_click, keep_default=True)  # names link to profiles

    def follow_list(self) -> nip02.FollowList:
        return self.feed.follow_lists.get(self.me) or nip02.FollowList(follows=())

    def is_following(self, pubkey: str) -> bool:
        return self.follow_list().is_following(pubkey)

    def update_authors(self) -> None:
        """The feed shows the follows and oneself: subscribe to them whenever the follow list changes."""
        authors = sorted({*self.follow_list().pubkeys(), self.me})
        if authors != self._authors:
            self._authors = authors
            self.feed.set_authors(authors)
            self.pool.subscribe(subscriptions.FEED_SUBSCRIPTION, subscriptions.feed_filters(authors))
            self.render()
            self.authors_changed()

    def render(self) -> None:
        container = dom.by_id("following-list")
        container.replaceChildren()
        for pubkey in self.follow_list().pubkeys():
            item = dom.el("li", data_pubkey=pubkey)
            npub = nip19.npub_encode(pubkey)
            item.append(dom.el("a", "name", self.feed.label(pubkey), title=npub, href=profile_route(pubkey)))
            item.append(dom.el("button", "unfollow", "Unfollow", type="button", data_pubkey=pubkey))
            container.append(item)

    async def follow(self, pubkey: str) -> str:
        if pubkey == self.me:
            raise ValueError("that is your own key")

        def build() -> tuple[str, list[list[str]]]:
            current = self.follow_list()
            if current.is_following(pubkey):
                raise Unchanged("already following")
            updated = current.follow(pubkey)
            return updated.content, updated.to_tags()

        report = await self.publisher.edit_replaceable(nip02.KIND_FOLLOW_LIST, build)
        return f"following {self.feed.label(pubkey)} · {report}"

    async def unfollow(self, pubkey: str) -> str:
        def build() -> tuple[str, list[list[str]]]:
            current = self.follow_list()
            if not current.is_following(pubkey):
                raise Unchanged("not following")
            updated = current.unfollow(pubkey)
            return updated.content, updated.to_tags()

        report = await self.publisher.edit_replaceable(nip02.KIND_FOLLOW_LIST, build)
        return f"unfollowed {self.feed.label(pubkey)} · {report}"

    async def on_follow(self, _event: Any, form: dict[str, str]) -> None:
        async def follow() -> str:
            text = form["follow-input"]
            if nip05.looks_like_identifier(text):
                pubkey = await nip05_lookup.pubkey_of(text)
            else:
                pubkey = nip19.pubkey_from_input(text)
            report = await self.follow(pubkey)
            dom.clear_if_unchanged(form, "follow-input")
            return report

        await self.forms.guarded("follow-result", follow)

    async def on_list_click(self, event: Any, _form: dict[str, str]) -> None:
        target = event.target
        if target.classList.contains("unfollow"):
            pubkey = str(target.dataset.pubkey)
            await self.forms.guarded("follow-result", lambda: self.unfollow(pubkey))
