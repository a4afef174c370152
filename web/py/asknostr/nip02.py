"""NIP-02: the follow list (kind 3)."""

from dataclasses import dataclass, replace

from asknostr.nip01 import Event, is_hex64

KIND_FOLLOW_LIST = 3


@dataclass(frozen=True)
class Follow:
    """One followed public key, with an optional relay hint and petname."""

    pubkey: str
    relay: str = ""
    petname: str = ""


@dataclass(frozen=True)
class FollowList:
    """A kind 3 event's content, keeping unknown tags so that re-publishing loses nothing."""

    follows: tuple[Follow, ...]
    content: str = ""
    other_tags: tuple[tuple[str, ...], ...] = ()
    created_at: int = 0

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
    """The follow list in a kind 3 event; `p` tags without a valid pubkey are skipped."""
    if event["kind"] != KIND_FOLLOW_LIST:
        raise ValueError(f"not a follow list: kind {event['kind']}, expected {KIND_FOLLOW_LIST}")
    follows: dict[str, Follow] = {}
    other_tags = []
    for tag in event["tags"]:
        if tag[0] != "p":
            other_tags.append(tuple(tag))
        elif len(tag) > 1 and is_hex64(tag[1]) and tag[1] not in follows:
            relay = tag[2] if len(tag) > 2 else ""
            petname = tag[3] if len(tag) > 3 else ""
            follows[tag[1]] = Follow(tag[1], relay, petname)
    return FollowList(tuple(follows.values()), event["content"], tuple(other_tags), event["created_at"])


def newer(a: FollowList | None, b: FollowList) -> FollowList:
    """The follow list to keep (replaceable events: the later created_at wins; a on a tie)."""
    if a is None or b.created_at > a.created_at:
        return b
    return a
