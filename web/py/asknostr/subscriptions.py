"""Which REQ filters the app keeps open: the user's own lists, and the feed of the people they follow."""

from __future__ import annotations

from typing import Any

from asknostr.media_post import COMMUNITY_HASHTAG

IDENTITY_SUBSCRIPTION = "me"
FEED_SUBSCRIPTION = "feed"
COMMUNITY_SUBSCRIPTION = "community"
ZAPS_SUBSCRIPTION = "zaps"
PROFILE_SUBSCRIPTION = "profile"
NAMES_SUBSCRIPTION = "names"

Filter = dict[str, Any]


def identity_filters(pubkey: str) -> list[Filter]:
    """The user's own profile (0), follow list (3), relay list (10002) and media server lists (10063, 10096)."""
    return [{"kinds": [0, 3, 10002, 10063, 10096], "authors": [pubkey]}]


def community_filters(*, limit: int = 200) -> list[Filter]:
    """Notes of anyone with the community hashtag."""
    return [{"kinds": [1], "#t": [COMMUNITY_HASHTAG], "limit": limit}]


def feed_filters(authors: list[str], *, limit: int = 300) -> list[Filter]:
    """Text notes of `authors` (follows and self) and their profiles."""
    if not authors:
        return []
    return [
        {"kinds": [1], "authors": sorted(authors), "limit": limit},
        {"kinds": [0], "authors": sorted(authors)},
    ]


def zap_filters(pubkey: str, *, limit: int = 500) -> list[Filter]:
    """Zap receipts of the user's zaps (NIP-57: the receipt's `P` tag names the sender)."""
    return [{"kinds": [9735], "#P": [pubkey], "limit": limit}]


def profile_filters(pubkey: str, *, limit: int = 100) -> list[Filter]:
    """An open profile: the person's kind 0 and their latest notes (followed or not)."""
    return [{"kinds": [0], "authors": [pubkey]}, {"kinds": [1], "authors": [pubkey], "limit": limit}]


MAX_NAMES = 200


def names_filters(shown: list[str], skip: set[str]) -> list[Filter]:
    """The profiles (names, pictures) of the people on screen whom the feed's subscription does not cover (`skip`:
    the follows and oneself): the community feed's authors. `shown` is in screen order, newest post first; at
    most MAX_NAMES of them, the first ones on screen, in a stable order so the filter changes only when they do."""
    wanted = list(dict.fromkeys(p for p in shown if p not in skip))[:MAX_NAMES]
    return [{"kinds": [0], "authors": sorted(wanted)}] if wanted else []
