"""Publishing the user's events: signed, checked, filed in the feed and sent to every relay; and edits of the
user's replaceable lists (profile, follows, server lists), each made from the newest version the relays hold."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from asknostr import nip01, subscriptions
from asknostr.browser.relay_pool import RelayPool
from asknostr.browser.signer import Signer
from asknostr.feed import Feed

IDENTITY_WAIT = 4.0
"""Seconds to wait for the user's own lists before allowing edits anyway (a new user has none)."""

Build = Callable[[], tuple[str, list[list[str]]]]
"""Makes an edited list's (content, tags) from the feed's newest version; raises Unchanged for a no-op."""


class Publisher:
    def __init__(self, me: Signer, feed: Feed, pool: RelayPool, ingest: Callable[[object], object]) -> None:
        self.me, self.feed, self.pool = me, feed, pool
        self.ingest = ingest  # the app's: files an event in the feed and tells the panels, as if a relay sent it
        self._identity_eose = asyncio.Event()  # set on every EOSE of the identity subscription
        self._edit_lock = asyncio.Lock()  # one edit of a replaceable list at a time: read, build, sign, send
        self._replaceable_times: dict[int, int] = {}  # kind -> created_at of the newest own version seen

    def identity_answered(self) -> None:
        """A relay finished sending the user's stored lists."""
        self._identity_eose.set()

    def own_event(self, event: nip01.Event) -> None:
        if nip01.is_replaceable(event["kind"]):
            previous = self._replaceable_times.get(event["kind"], -1)
            self._replaceable_times[event["kind"]] = max(previous, event["created_at"])

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
        self.ingest(event)
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

    async def edit_replaceable(self, kind: int, build: Build) -> str:
        """Publish a new version of one of the user's lists, built from the newest stored version.

        Never from a guess: the relays must first have answered with what they store, and edits run one at a
        time, so a follow, a quick second follow and an unfollow each start from the one before.
        """
        async with self._edit_lock:
            await self.identity_loaded()
            content, tags = build()
            return await self.publish(kind, content, tags)

    async def identity_loaded(self) -> None:
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
