"""NIP-01: events, their ids, filters, and the client/relay messages."""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

Event = dict[str, Any]
"""A Nostr event as a JSON object: id, pubkey, created_at, kind, tags, content, sig."""

_FIELDS = ("id", "pubkey", "created_at", "kind", "tags", "content", "sig")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_MAX_SAFE_INT = 2**53 - 1  # beyond this, JavaScript numbers (and so nostr-tools ids) lose precision


class EventError(ValueError):
    """An event that is malformed or whose id does not match its content."""


def is_hex64(value: object) -> bool:
    """Whether value is a 32-byte key or id: 64 lowercase hex characters."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def serialize(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> str:
    """The canonical `[0,pubkey,created_at,kind,tags,content]` form that an event id hashes.

    Matches JavaScript's JSON.stringify, which nostr-tools uses: no whitespace, non-ASCII verbatim,
    \\n \\" \\\\ \\r \\t \\b \\f as short escapes and other control characters as \\u00xx.
    """
    return json.dumps([0, pubkey, created_at, kind, tags, content], separators=(",", ":"), ensure_ascii=False)


def event_id(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> str:
    """The event id: sha256 (hex) of the UTF-8 serialization."""
    try:
        data = serialize(pubkey, created_at, kind, tags, content).encode()
    except UnicodeEncodeError as exc:
        raise EventError("event text contains a lone surrogate (not valid UTF-8)") from exc
    return hashlib.sha256(data).hexdigest()


def _check_fields(event: dict[Any, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name not in event:
            raise EventError(f"event has no {name!r} field")
    for name in ("id", "pubkey"):
        if name in names and not is_hex64(event[name]):
            raise EventError(f"{name} must be 64 lowercase hex")
    if "sig" in names and not (isinstance(event["sig"], str) and _HEX128.fullmatch(event["sig"])):
        raise EventError("sig must be 128 lowercase hex")
    created_at = event["created_at"]
    if type(created_at) is not int or not 0 <= created_at <= _MAX_SAFE_INT:
        raise EventError("created_at must be an integer from 0 to 2**53 - 1")
    kind = event["kind"]
    if type(kind) is not int or not 0 <= kind <= 65535:
        raise EventError("kind must be an integer from 0 to 65535")
    tags = event["tags"]
    if not (
        isinstance(tags, list)
        and all(isinstance(tag, list) and tag and all(isinstance(s, str) for s in tag) for tag in tags)
    ):
        raise EventError("tags must be a list of non-empty lists of strings")
    if not isinstance(event["content"], str):
        raise EventError("content must be a string")


def is_replaceable(kind: int) -> bool:
    """Kinds of which relays keep only the newest event per author (NIP-01: 0, 3 and 10000-19999)."""
    return kind in (0, 3) or 10000 <= kind < 20000


def next_created_at(now: int, previous: int | None) -> int:
    """The timestamp for a new version of a replaceable event: now, but always after the version it replaces.

    Two edits within one second (follow, then unfollow) would otherwise tie, and on a tie relays keep the lower
    id, which may be the older version.
    """
    return now if previous is None else max(now, previous + 1)


def build_unsigned(pubkey: str, kind: int, content: str, tags: list[list[str]], created_at: int) -> Event:
    """A complete event with its id but without `sig`, ready for a signer."""
    tags = [list(tag) for tag in tags]
    fields = {"pubkey": pubkey, "created_at": created_at, "kind": kind, "tags": tags, "content": content}
    _check_fields(fields, _FIELDS[1:-1])
    return {"id": event_id(pubkey, created_at, kind, tags, content), **fields}


def check_event(obj: object) -> Event:
    """A copy of obj with exactly the 7 event fields, after checking their shape and the id.

    The Schnorr signature is not verified here.
    """
    if not isinstance(obj, dict):
        raise EventError("event must be a JSON object")
    _check_fields(obj, _FIELDS)
    event: Event = {name: obj[name] for name in _FIELDS}
    event["tags"] = [list(tag) for tag in event["tags"]]
    expected = event_id(event["pubkey"], event["created_at"], event["kind"], event["tags"], event["content"])
    if event["id"] != expected:
        raise EventError("id does not match content")
    return event


def matches_filter(event: Event, flt: dict[str, Any]) -> bool:
    """Whether event matches one NIP-01 filter (exact ids/authors; `limit` is ignored)."""
    for key, value in flt.items():
        if key == "ids":
            ok = event["id"] in value
        elif key == "authors":
            ok = event["pubkey"] in value
        elif key == "kinds":
            ok = event["kind"] in value
        elif key == "since":
            ok = event["created_at"] >= value
        elif key == "until":
            ok = event["created_at"] <= value
        elif key.startswith("#") and len(key) > 1:
            name = key[1:]
            ok = any(len(tag) > 1 and tag[0] == name and tag[1] in value for tag in event["tags"])
        else:
            continue
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class EventMessage:
    """["EVENT", subscription_id, event]; the event is raw and unchecked."""

    subscription_id: str
    event: object


@dataclass(frozen=True)
class EoseMessage:
    """["EOSE", subscription_id]: stored events have all been sent."""

    subscription_id: str


@dataclass(frozen=True)
class OkMessage:
    """["OK", event_id, accepted, message]: the answer to a published event."""

    event_id: str
    accepted: bool
    message: str


@dataclass(frozen=True)
class NoticeMessage:
    """["NOTICE", message]: human-readable text from the relay."""

    message: str


@dataclass(frozen=True)
class ClosedMessage:
    """["CLOSED", subscription_id, message]: the relay ended a subscription."""

    subscription_id: str
    message: str


@dataclass(frozen=True)
class AuthMessage:
    """["AUTH", challenge]: NIP-42 authentication challenge."""

    challenge: str


RelayMessage = EventMessage | EoseMessage | OkMessage | NoticeMessage | ClosedMessage | AuthMessage

_ARITY = {"EVENT": 3, "EOSE": 2, "OK": 4, "NOTICE": 2, "CLOSED": 3, "AUTH": 2}


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"relay message: {what} must be a string")
    return value


def parse_relay_message(text: str) -> RelayMessage:
    """Parse one relay-to-client message; ValueError says what is malformed."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"relay message is not valid JSON: {exc}") from None
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise ValueError("relay message must be a JSON array starting with a type string")
    kind = data[0]
    if kind not in _ARITY:
        raise ValueError(f"unknown relay message type {kind!r}")
    if len(data) != _ARITY[kind]:
        raise ValueError(f"relay {kind} message must have {_ARITY[kind]} elements, got {len(data)}")
    if kind == "EVENT":
        return EventMessage(_text(data[1], "subscription id"), data[2])
    if kind == "EOSE":
        return EoseMessage(_text(data[1], "subscription id"))
    if kind == "OK":
        if not isinstance(data[2], bool):
            raise ValueError("relay message: OK status must be true or false")
        return OkMessage(_text(data[1], "event id"), data[2], _text(data[3], "message"))
    if kind == "NOTICE":
        return NoticeMessage(_text(data[1], "message"))
    if kind == "CLOSED":
        return ClosedMessage(_text(data[1], "subscription id"), _text(data[2], "message"))
    return AuthMessage(_text(data[1], "challenge"))


def _dumps(message: list[Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _check_subscription_id(subscription_id: str) -> None:
    if not 1 <= len(subscription_id) <= 64:
        raise ValueError("subscription id must be 1 to 64 characters")


def req_message(subscription_id: str, filters: list[dict[str, Any]]) -> str:
    """["REQ", subscription_id, filter...] as JSON text."""
    _check_subscription_id(subscription_id)
    if not filters:
        raise ValueError("REQ needs at least one filter")
    return _dumps(["REQ", subscription_id, *filters])


def close_message(subscription_id: str) -> str:
    """["CLOSE", subscription_id] as JSON text."""
    _check_subscription_id(subscription_id)
    return _dumps(["CLOSE", subscription_id])


def event_message(event: Event) -> str:
    """["EVENT", event] as JSON text, for publishing."""
    return _dumps(["EVENT", event])
