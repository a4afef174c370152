"""User metadata (kind 0) and the name to show for a public key."""

import json
from dataclasses import dataclass
from typing import Any

from asknostr.nip01 import Event
from asknostr.nip19 import short_npub
from asknostr.nip92 import is_http_url

KIND_METADATA = 0
_MAX_LABEL = 64


@dataclass(frozen=True)
class Profile:
    """The fields of a kind 0 event that the app shows."""

    pubkey: str
    name: str = ""
    display_name: str = ""
    picture: str = ""
    about: str = ""
    nip05: str = ""
    created_at: int = 0


def parse_profile(event: Event) -> Profile:
    """The profile in a kind 0 event; bad JSON or fields of the wrong type are ignored."""
    if event["kind"] != KIND_METADATA:
        raise ValueError(f"not a profile: kind {event['kind']}, expected {KIND_METADATA}")
    try:
        data: Any = json.loads(event["content"])
    except (ValueError, RecursionError):
        data = {}
    if not isinstance(data, dict):
        data = {}

    def text(key: str) -> str:
        value = data.get(key)
        return value.strip() if isinstance(value, str) else ""

    picture = text("picture")
    return Profile(
        pubkey=event["pubkey"],
        name=text("name"),
        display_name=text("display_name") or text("displayName"),
        picture=picture if is_http_url(picture) else "",
        about=text("about"),
        nip05=text("nip05"),
        created_at=event["created_at"],
    )


def label(profile: Profile | None, pubkey: str) -> str:
    """The display name, else the name (whitespace collapsed, at most 64 characters), else a short npub."""
    if profile is not None:
        for candidate in (profile.display_name, profile.name):
            text = " ".join(candidate.split())
            if text:
                return text[:_MAX_LABEL]
    return short_npub(pubkey)
