"""The last session's feed in IndexedDB (what is kept and why it is safe to read back: asknostr.feed_cache).

raws = await feed_cache.load(me)     # at start: pass each to Feed.ingest (signature checked), note the kept
await feed_cache.save(me, cache.snapshot(feed.visible_posts(), me))   # debounced by the caller
"""

from __future__ import annotations

from typing import Any

from asknostr import feed_cache
from asknostr.browser import storage
from asknostr.nip01 import Event

KEY = "feed-cache"


async def load(me: str) -> list[Any]:
    """The stored events of `me`'s last session, unchecked ([] if none, unreadable or another identity's)."""
    return feed_cache.loads(await storage.get_text(KEY), me)


async def save(me: str, events: list[Event]) -> None:
    """Replace the stored events with `events` (a FeedCache.snapshot) for `me`."""
    await storage.set_text(KEY, feed_cache.dumps(events, me))


async def clear() -> None:
    """Forget the stored feed (e.g. when the identity is removed)."""
    await storage.delete(KEY)
