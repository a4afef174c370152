"""The app's own addresses: a person's profile view is `#profile=npub1…`, so a link opens it, the back button
closes it and it can be shared. Pure: unit-tested in CPython."""

from __future__ import annotations

from asknostr import nip19

PROFILE_PREFIX = "#profile="


def profile_route(pubkey: str) -> str:
    return PROFILE_PREFIX + nip19.npub_encode(pubkey)


def profile_of(location_hash: str) -> str | None:
    """The public key (hex) a location's hash opens the profile of; None for any other hash or a bad key."""
    if not location_hash.startswith(PROFILE_PREFIX):
        return None
    try:
        return nip19.pubkey_from_input(location_hash[len(PROFILE_PREFIX) :])
    except ValueError:
        return None
