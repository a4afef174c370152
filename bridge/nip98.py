"""NIP-98 HTTP auth: a kind 27235 event signed for one request (its URL, method and body hash).

Used by the Bridge's bootstrap ping and heartbeat endpoints: `authorize_request` decodes the header and checks
the signature (bridge.nostr_auth), then `check_request` judges whether the event authorises *this* request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from asknostr.nip01 import Event
from asknostr.nip98 import KIND_HTTP_AUTH
from bridge.errors import BridgeError
from bridge.nostr_auth import parse_authorization, verify_signature

MAX_AGE_SECONDS = 60
"""NIP-98: the event's created_at must be within a reasonable window (it suggests 60 s)."""


def _tag(event: Event, name: str) -> str | None:
    for tag in event["tags"]:
        if len(tag) >= 2 and tag[0] == name:
            return str(tag[1])
    return None


def _normalized(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def check_request(event: Event, *, urls: Iterable[str], method: str, body: bytes, now: int) -> str:
    """The signer's pubkey when `event` authorises this request; BridgeError(401, reason) otherwise.

    `urls`: the URLs this request may have been signed for (the server's public one, the request's own).
    `event` must already have passed the id and signature checks.
    """
    if event["kind"] != KIND_HTTP_AUTH:
        raise BridgeError(401, f"auth event must be kind {KIND_HTTP_AUTH}")
    if abs(now - event["created_at"]) > MAX_AGE_SECONDS:
        raise BridgeError(401, f"auth event is not from the last {MAX_AGE_SECONDS} s")
    signed_url = _tag(event, "u")
    if signed_url is None or _normalized(signed_url) not in {_normalized(url) for url in urls}:
        raise BridgeError(401, f"auth event is for another URL (u tag: {signed_url!r})")
    signed_method = _tag(event, "method")
    if signed_method is None or signed_method.upper() != method.upper():
        raise BridgeError(401, f"auth event is for another method (method tag: {signed_method!r})")
    signed_payload = _tag(event, "payload")
    if body and signed_payload is None:
        raise BridgeError(401, "auth event has no payload tag for a request with a body")
    if signed_payload is not None and signed_payload.lower() != payload_hash(body):
        raise BridgeError(401, "auth event's payload tag is not the sha256 of the body")
    return str(event["pubkey"])


def authorize_request(header: str | None, *, urls: Iterable[str], method: str, body: bytes, now: int) -> str:
    """The pubkey that signed the `Authorization: Nostr <base64 event>` header for this request; else
    BridgeError(401, reason) — no header, a forged or malformed event, or one made for another request."""
    event = parse_authorization(header)
    verify_signature(event)
    return check_request(event, urls=urls, method=method, body=body, now=now)
