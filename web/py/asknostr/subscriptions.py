"""Which REQ filters the app keeps open: the user's own lists, and the feed of the people they follow."""

from __future__ import annotations

from typing import Any

IDENTITY_SUBSCRIPTION = "me"
FEED_SUBSCRIPTION = "feed"

Filter = dict[str, Any]


def identity_filters(pubkey: str) -> list[Filter]:
    """The user's own profile (0), follow list (3) and relay list (10002)."""
    return [{"kinds": [0, 3, 10002], "authors": [pubkey]}]


def feed_filters(authors: list[str], *, limit: int = 300) -> list[Filter]:
    """Text notes of `authors` (follows and self) and their profiles."""
    if not authors:
        return []
    return [
        {"kinds": [1], "authors": sorted(authors), "limit": limit},
        {"kinds": [0], "authors": sorted(authors)},
    ]
