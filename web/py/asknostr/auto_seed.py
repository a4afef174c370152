"""The follower-seed listener's decision: which torrents of a followed creator's post this browser joins.

Input: an event that passed the id and signature checks (the feed drops the others). A torrent is joined when the
author is followed now, it has an infoHash (imeta `i`/`magnet`, a kind 1063 file event, or a magnet in the text),
it was not joined before, and its announced size (when known) is within the auto-seed cap. The cap is checked
again once the torrent's real length is known (a post can lie about `size`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from asknostr.event_media import media_of
from asknostr.nip01 import Event

DEFAULT_SIZE_CAP = 200 * 1000 * 1000


@dataclass(frozen=True)
class Join:
    info_hash: str
    magnet: str
    creator: str
    event_id: str
    url: str  # the HTTP copy, when the post has one
    size: int | None


def torrents_to_join(event: Event, following: Collection[str], joined: Collection[str], size_cap: int) -> list[Join]:
    if event.get("pubkey") not in following:
        return []
    joins: dict[str, Join] = {}
    for media in media_of(event):
        if not media.infohash or media.infohash in joined or media.infohash in joins:
            continue
        if media.size is not None and media.size > size_cap:
            continue
        magnet = media.magnet or f"magnet:?xt=urn:btih:{media.infohash}"
        joins[media.infohash] = Join(media.infohash, magnet, event["pubkey"], event["id"], media.url, media.size)
    return list(joins.values())
