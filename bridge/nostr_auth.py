"""Blossom authorization (BUD-01, BUD-11): kind 24242 events in an `Authorization: Nostr <base64>` header.

Plain functions with an injectable clock (`now`); every failure is a `BridgeError` carrying the HTTP status and a
human-readable reason for the `X-Reason` header.
"""

from __future__ import annotations

import base64

import coincurve

from asknostr.blossom import KIND_BLOSSOM_AUTH
from asknostr.nip01 import Event, EventError, check_event, is_hex64
from bridge.errors import BridgeError, parse_json

MAX_HEADER_CHARS = 16384


CLOCK_SKEW = 60
"""Seconds an auth event may be dated ahead of this server's clock: phones' clocks drift (as NIP-98's window)."""


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (BUD-01 shows the first, BUD-11 asks for the second)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def parse_authorization(header: str | None) -> Event:
    """The event in an `Authorization: Nostr <base64 event JSON>` header, its shape and id checked (not its sig)."""
    if header is None or not header.strip():
        raise BridgeError(401, "Missing Authorization header (expected: Nostr <base64 signed event>)")
    if len(header) > MAX_HEADER_CHARS:
        raise BridgeError(401, "Authorization header too long")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "nostr" or not token.strip():
        raise BridgeError(401, "Authorization scheme must be 'Nostr <base64 event>'")
    try:
        raw = _b64decode(token)
    except ValueError:  # binascii.Error, and text that is not ASCII at all
        raise BridgeError(401, "Authorization header is not base64-encoded event JSON") from None
    try:
        obj = parse_json(raw, "the Authorization header's event")
    except BridgeError as exc:
        raise BridgeError(401, exc.reason) from None
    try:
        return check_event(obj)
    except EventError as exc:
        raise BridgeError(401, f"Invalid auth event: {exc}") from exc


def tag_values(event: Event, name: str) -> list[str]:
    """The first values of the event's `name` tags."""
    return [tag[1] for tag in event["tags"] if len(tag) >= 2 and tag[0] == name]


def verify_signature(event: Event) -> None:
    """BIP-340 Schnorr signature of the id by the pubkey (shape and id already checked by `check_event`)."""
    try:
        valid = coincurve.PublicKeyXOnly(bytes.fromhex(event["pubkey"])).verify(
            bytes.fromhex(event["sig"]), bytes.fromhex(event["id"])
        )
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise BridgeError(401, "Invalid auth event: bad signature")


def require_x(event: Event, sha256: str) -> None:
    """The event must have an `x` tag naming the blob the endpoint acts on."""
    hashes = tag_values(event, "x")
    if not hashes:
        raise BridgeError(401, "Auth event has no 'x' tag (the blob's sha256 is required)")
    if sha256 not in hashes:
        raise BridgeError(401, f"Auth event's 'x' tags do not include {sha256}")


def verify_auth_event(
    event: Event, verb: str, *, now: float, sha256: str | None = None, server: str | None = None
) -> Event:
    """Check a kind 24242 event for `verb` at time `now`, in BUD-11's order, then its signature.

    `sha256`: the blob the endpoint acts on, which an `x` tag must name (omit when not known yet, then call
    `require_x` once it is). `server`: this server's domain, which must be listed if the event has `server` tags.
    """
    if event["kind"] != KIND_BLOSSOM_AUTH:
        raise BridgeError(401, f"Auth event must be kind {KIND_BLOSSOM_AUTH}, not {event['kind']}")
    if event["created_at"] > now + CLOCK_SKEW:
        raise BridgeError(401, f"Auth event created_at is in the future (more than {CLOCK_SKEW} s ahead)")
    expirations = tag_values(event, "expiration")
    if not expirations:
        raise BridgeError(401, "Auth event has no 'expiration' tag")
    try:
        expiration = int(expirations[0])
    except ValueError:
        raise BridgeError(401, "Auth event 'expiration' tag is not a unix timestamp") from None
    if expiration <= now:
        raise BridgeError(401, "Auth event has expired")
    verbs = tag_values(event, "t")
    if verb not in verbs:
        raise BridgeError(401, f"Auth event 't' tag must be {verb!r} (got {', '.join(verbs) or 'none'})")
    servers = tag_values(event, "server")
    if server is not None and servers and server.lower() not in (s.lower() for s in servers):
        raise BridgeError(401, f"Auth event is scoped to other servers, not {server}")
    if sha256 is not None:
        require_x(event, sha256)
    verify_signature(event)
    return event


def authorize(
    header: str | None, verb: str, *, now: float, sha256: str | None = None, server: str | None = None
) -> Event:
    """Parse and verify the Authorization header for `verb`; the verified event (its pubkey is the user)."""
    if sha256 is not None and not is_hex64(sha256):
        raise BridgeError(400, "sha256 must be 64 lowercase hex")
    return verify_auth_event(parse_authorization(header), verb, now=now, sha256=sha256, server=server)
