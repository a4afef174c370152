"""NIP-02: the follow list (kind 3)."""

import re
from dataclasses import dataclass, replace

from asknostr.nip01 import Event, is_hex64

KIND_FOLLOW_LIST = 3
_ANY_CASE_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Follow:
    """One followed public key, with an optional relay hint and petname."""

    pubkey: str
    relay: str = ""
    petname: str = ""


@dataclass(frozen=True)
class FollowList:
    """A kind 3 event's content, keeping unknown tags so that re-publishing loses nothing.

    `other_tags` holds the non-`p` tags and any `p` tag without a usable pubkey, verbatim.
    `created_at` and `event_id` identify the event the list came from, for the replaceable-event rule.
    """

    follows: tuple[Follow, ...]
    content: str = ""
    other_tags: tuple[tuple[str, ...], ...] = ()
    created_at: int = 0
    event_id: str = ""

    def pubkeys(self) -> list[str]:
        """The followed public keys, in list order."""
        return [follow.pubkey for follow in self.follows]

    def is_following(self, pubkey: str) -> bool:
        """Whether pubkey is on the list."""
        return any(follow.pubkey == pubkey for follow in self.follows)

    def follow(self, pubkey: str) -> "FollowList":
        """This list with pubkey appended (unchanged if already followed)."""
        if not is_hex64(pubkey):
            raise ValueError("pubkey must be 64 lowercase hex")
        if self.is_following(pubkey):
            return self
        return replace(self, follows=(*self.follows, Follow(pubkey)))

    def unfollow(self, pubkey: str) -> "FollowList":
        """This list without pubkey."""
        return replace(self, follows=tuple(f for f in self.follows if f.pubkey != pubkey))

    def to_tags(self) -> list[list[str]]:
        """The event tags: `p` tags (trailing empty fields trimmed), then the other tags."""
        tags = []
        for follow in self.follows:
            tag = ["p", follow.pubkey, follow.relay, follow.petname]
            while tag[-1] == "":
                tag.pop()
            tags.append(tag)
        return tags + [list(tag) for tag in self.other_tags]


def parse_follow_list(event: Event) -> FollowList:
    """The follow list in a kind 3 event.

    A `p` tag with 64 hex characters (any case) is a follow, its pubkey lowercased; a repeated pubkey keeps its
    first tag. Any other `p` tag is kept verbatim in `other_tags`, so that re-publishing does not delete it.
    """
    if event["kind"] != KIND_FOLLOW_LIST:
        raise ValueError(f"not a follow list: kind {event['kind']}, expected {KIND_FOLLOW_LIST}")
    follows: dict[str, Follow] = {}
    other_tags = []
    for tag in event["tags"]:
        if tag[0] != "p" or len(tag) < 2 or not _ANY_CASE_HEX64.fullmatch(tag[1]):
            other_tags.append(tuple(tag))
            continue
        pubkey = tag[1].lower()
        if pubkey not in follows:
            relay = tag[2] if len(tag) > 2 else ""
            petname = tag[3] if len(tag) > 3 else ""
            follows[pubkey] = Follow(pubkey, relay, petname)
    return FollowList(tuple(follows.values()), event["content"], tuple(other_tags), event["created_at"], event["id"])


def supersedes(created_at: int, event_id: str, old_created_at: int, old_event_id: str) -> bool:
    """Whether a version of a replaceable event replaces an older one (NIP-01).

    The later created_at wins; on a tie, the lowest id (lexical order) wins. An event never supersedes itself.
    """
    if created_at != old_created_at:
        return created_at > old_created_at
    return event_id < old_event_id


def newer(a: FollowList | None, b: FollowList) -> FollowList:
    """The follow list to keep: the later created_at, then the lower event id (NIP-01); a if they are equal."""
    if a is None or supersedes(b.created_at, b.event_id, a.created_at, a.event_id):
        return b
    return a
