"""The feed state: checked events sorted into posts, profiles, follow lists and relay lists."""

from collections.abc import Callable, Iterable

from asknostr import nip02, nip65, profile
from asknostr.event_media import media_of
from asknostr.media_post import is_community_post
from asknostr.nip01 import Event, EventError, check_event
from asknostr.profile import Profile

Verifier = Callable[[Event], bool]
"""Checks an event's Schnorr signature (a WASM library in the browser, coincurve in tests)."""

_KIND_NOTE = 1
_MAX_REJECTED = 10_000


class Feed:
    """What the UI shows; `version` changes whenever something visible does."""

    def __init__(self, *, max_posts: int = 500) -> None:
        if max_posts < 1:
            raise ValueError("max_posts must be at least 1")
        self.max_posts = max_posts
        self.version = 0
        self.dropped = 0
        self.last_drop_reason = ""
        self.profiles: dict[str, Profile] = {}
        self.follow_lists: dict[str, nip02.FollowList] = {}
        self.relay_lists: dict[str, list[nip65.RelayEntry]] = {}
        # (created_at, id) of the kept kind 0 and kind 10002 event per author, for the replaceable-event rule
        self._profile_versions: dict[str, tuple[int, str]] = {}
        self._relay_list_versions: dict[str, tuple[int, str]] = {}
        self._posts: dict[str, Event] = {}
        self._authors: frozenset[str] = frozenset()
        self._watched: str | None = None  # the author whose profile is open: their notes change what is shown
        self._accepted: set[str] = set()  # ids whose signature verified
        self._rejected: set[tuple[str, str]] = set()  # (id, sig) pairs whose signature did not

    def ingest(self, raw: object, verify: Verifier) -> Event | None:
        """Check, verify and file one event from a relay; the event if it is new and valid, else None."""
        try:
            event = check_event(raw)
        except EventError as exc:
            self._drop(str(exc))
            return None
        key = event["id"]
        if key in self._accepted:
            return None
        # A bad signature is remembered with its sig only, so that a forgery cannot block the real event.
        if (key, event["sig"]) in self._rejected:
            self._drop("bad signature")
            return None
        try:
            valid = verify(event)
        except Exception as exc:
            valid, reason = False, f"signature check failed: {exc}"
        else:
            reason = "bad signature"
        if not valid:
            if len(self._rejected) >= _MAX_REJECTED:
                self._rejected.clear()
            self._rejected.add((key, event["sig"]))
            self._drop(reason)
            return None
        self._accepted.add(key)
        self._file(event)
        return event

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        self.last_drop_reason = reason

    def _file(self, event: Event) -> None:
        kind, author = event["kind"], event["pubkey"]
        if kind == profile.KIND_METADATA:
            if self._supersedes(self._profile_versions, event):
                self.profiles[author] = profile.parse_profile(event)
                self.version += 1
        elif kind == nip02.KIND_FOLLOW_LIST:
            old_list = self.follow_lists.get(author)
            kept = nip02.newer(old_list, nip02.parse_follow_list(event))
            if kept is not old_list:
                self.follow_lists[author] = kept
                self.version += 1
        elif kind == nip65.KIND_RELAY_LIST:
            if self._supersedes(self._relay_list_versions, event):
                self.relay_lists[author] = nip65.parse_relay_list(event)
        elif kind == _KIND_NOTE:
            self._posts[event["id"]] = event
            if author in self._authors or author == self._watched or is_community_post(event["tags"]):
                self.version += 1
            self._evict()

    @staticmethod
    def _supersedes(versions: dict[str, tuple[int, str]], event: Event) -> bool:
        """Whether event replaces the kept version (recording it if so): later created_at, then lower id."""
        old = versions.get(event["pubkey"])
        if old is not None and not nip02.supersedes(event["created_at"], event["id"], *old):
            return False
        versions[event["pubkey"]] = (event["created_at"], event["id"])
        return True

    def _evict(self) -> None:
        excess = len(self._posts) - 2 * self.max_posts
        if excess <= 0:
            return
        oldest = sorted(self._posts.values(), key=lambda e: (e["created_at"], e["id"]))[:excess]
        for event in oldest:
            del self._posts[event["id"]]
            if event["pubkey"] in self._authors:
                self.version += 1

    def set_authors(self, pubkeys: Iterable[str]) -> None:
        """Show kind 1 posts only from these authors (the follows and oneself)."""
        authors = frozenset(pubkeys)
        if authors != self._authors:
            self._authors = authors
            self.version += 1

    def visible_posts(self) -> list[Event]:
        """The shown posts, newest first (ties by id), at most max_posts."""
        shown = [event for event in self._posts.values() if event["pubkey"] in self._authors]
        shown.sort(key=lambda e: (-e["created_at"], e["id"]))
        return shown[: self.max_posts]

    def watch(self, pubkey: str | None) -> None:
        """The author whose profile is open (None: none): their notes count as a change to render."""
        if pubkey != self._watched:
            self._watched = pubkey
            self.version += 1

    def posts_by(self, pubkey: str, *, media_only: bool = False) -> list[Event]:
        """The notes of one author (their profile's), newest first, at most max_posts; with `media_only`, only
        the ones with an attachment."""
        shown = [e for e in self._posts.values() if e["pubkey"] == pubkey and (not media_only or media_of(e))]
        shown.sort(key=lambda e: (-e["created_at"], e["id"]))
        return shown[: self.max_posts]

    def community_posts(self) -> list[Event]:
        """Notes tagged with the community hashtag (#asknostr), from anyone, newest first."""
        shown = [event for event in self._posts.values() if is_community_post(event["tags"])]
        shown.sort(key=lambda e: (-e["created_at"], e["id"]))
        return shown[: self.max_posts]

    def profile(self, pubkey: str) -> Profile | None:
        """The newest profile seen for pubkey."""
        return self.profiles.get(pubkey)

    def label(self, pubkey: str) -> str:
        """The name to show for pubkey."""
        return profile.label(self.profile(pubkey), pubkey)

    def picture(self, pubkey: str) -> str:
        """The avatar to show for pubkey: its profile's picture (an http(s) URL), or "" for none."""
        found = self.profile(pubkey)
        return found.picture if found is not None else ""
