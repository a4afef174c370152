"""The last session's feed, kept on the device so a start shows it before any relay answers.

What is kept: the newest posts shown (up to `max_posts`), the profiles (kind 0) of their authors, and the user's
own profile, follow list (kind 3) and relay list (kind 10002), which decide what the feed shows; then, room
permitting, the profiles of the people followed (the Following list). The events take at most `max_bytes` of
JSON, filled in that order: the user's own events, then posts newest first, each with its author's profile.

Nothing read back is trusted: `loads` returns raw objects, and the caller passes each to `Feed.ingest` with the
signature check, exactly as if a relay had sent it. An edited or corrupted store can drop events (they fail the
check) but never add one. Typical use:

    cache = FeedCache()
    for raw in loads(stored_text, me):      # at start, before the relays
        event = feed.ingest(raw, verify)
        if event is not None:
            cache.note(event)
    ...
    event = feed.ingest(raw, verify)        # every event from a relay
    if event is not None:
        cache.note(event)
    ...
    stored_text = dumps(cache.snapshot(feed.visible_posts(), me), me)   # now and then (debounced)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from asknostr import nip02, nip65, profile
from asknostr.nip01 import Event

DEFAULT_MAX_POSTS = 100
DEFAULT_MAX_BYTES = 512 * 1024  # ~100 posts with media tags and their authors' profiles fit several times over

_KEPT_KINDS = (profile.KIND_METADATA, nip02.KIND_FOLLOW_LIST, nip65.KIND_RELAY_LIST)


def _size(event: Event) -> int:
    """Bytes of the event in the stored JSON, with the separating comma."""
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()) + 1


class FeedCache:
    """The newest replaceable events (profiles, follow lists, relay lists) seen per author, which the feed keeps
    only parsed, so that a snapshot can store the signed originals."""

    def __init__(self, *, max_posts: int = DEFAULT_MAX_POSTS, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_posts < 0 or max_bytes < 0:
            raise ValueError("limits must not be negative")
        self.max_posts = max_posts
        self.max_bytes = max_bytes
        self._latest: dict[tuple[int, str], Event] = {}  # (kind, pubkey) -> newest event

    def note(self, event: Event) -> None:
        """Remember an event the feed accepted (`Feed.ingest` returned it); other kinds are ignored."""
        kind = event["kind"]
        if kind not in _KEPT_KINDS:
            return
        key = (kind, event["pubkey"])
        old = self._latest.get(key)
        if old is None or nip02.supersedes(event["created_at"], event["id"], old["created_at"], old["id"]):
            self._latest[key] = event

    def latest(self, kind: int, pubkey: str) -> Event | None:
        """The newest event of a kept kind by pubkey, if one was noted."""
        return self._latest.get((kind, pubkey))

    def snapshot(self, posts: Iterable[Event], me: str | None) -> list[Event]:
        """What to store: `me`'s profile, follow list and relay list, then the newest of `posts` (at most
        `max_posts`) each with its author's profile, then the followed people's profiles, within `max_bytes`.
        Posts may come in any order; repeats are stored once."""
        chosen: list[Event] = []
        ids: set[str] = set()
        budget = self.max_bytes

        def add(event: Event | None) -> bool:
            nonlocal budget
            if event is None or event["id"] in ids:
                return True
            size = _size(event)
            if size > budget:
                return False
            budget -= size
            ids.add(event["id"])
            chosen.append(event)
            return True

        if me is not None:
            for kind in _KEPT_KINDS:
                add(self.latest(kind, me))
        unique = {post["id"]: post for post in posts}.values()
        newest = sorted(unique, key=lambda e: (-e["created_at"], e["id"]))[: self.max_posts]
        for post in newest:
            author = self.latest(profile.KIND_METADATA, post["pubkey"])
            # a post goes with its author's profile or not at all, and the older posts stop there
            if _size(post) + (0 if author is None or author["id"] in ids else _size(author)) > budget:
                break
            add(author)
            add(post)
        follows = self.latest(nip02.KIND_FOLLOW_LIST, me) if me is not None else None
        if follows is not None:
            for pubkey in nip02.parse_follow_list(follows).pubkeys():
                if not add(self.latest(profile.KIND_METADATA, pubkey)):
                    break
        return chosen


_FORMAT = 1


def dumps(events: list[Event], me: str) -> str:
    """The stored form of a snapshot of `me`'s session: JSON with the events."""
    return json.dumps({"format": _FORMAT, "me": me, "events": events}, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None, me: str) -> list[Any]:
    """The raw objects of `me`'s stored snapshot, unchecked: each goes through `Feed.ingest` (with its signature
    check) before use. A missing, unreadable or malformed store, or another identity's, gives []; replaceable
    events come first, so that the follow list and profiles are known when the posts are filed."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    if not isinstance(value, dict) or value.get("format") != _FORMAT or value.get("me") != me:
        return []
    events = value.get("events")
    items = [item for item in events if isinstance(item, dict)] if isinstance(events, list) else []
    return sorted(items, key=lambda item: item.get("kind") not in _KEPT_KINDS)
