"""NIP-98 HTTP auth: a kind 27235 event signed for one request (its URL, method and body hash).

Used by the Bridge's bootstrap ping and heartbeat endpoints: `authorize_request` decodes the header and checks
the signature (bridge.nostr_auth), then `check_request` judges whether the event authorises *this* request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from asknostr.nip01 import Event
from asknostr.nip98 import KIND_HTTP_AUTH
from bridge.nostr_auth import AuthError, parse_authorization, verify_signature

MAX_AGE_SECONDS = 60
"""NIP-98: the event's created_at must be within a reasonable window (it suggests 60 s)."""


@dataclass(frozen=True)
class HttpAuthError(Exception):
    status: int
    reason: str

    def __str__(self) -> str:
        return self.reason


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


def check_request(event: Event, *, url: str, method: str, body: bytes, now: int) -> str:
    """The signer's pubkey when `event` authorises this request; HttpAuthError(401, reason) otherwise.

    `event` must already have passed the id and signature checks.
    """
    if event["kind"] != KIND_HTTP_AUTH:
        raise HttpAuthError(401, f"auth event must be kind {KIND_HTTP_AUTH}")
    if abs(now - event["created_at"]) > MAX_AGE_SECONDS:
        raise HttpAuthError(401, f"auth event is not from the last {MAX_AGE_SECONDS} s")
    signed_url = _tag(event, "u")
    if signed_url is None or _normalized(signed_url) != _normalized(url):
        raise HttpAuthError(401, f"auth event is for another URL (u tag: {signed_url!r})")
    signed_method = _tag(event, "method")
    if signed_method is None or signed_method.upper() != method.upper():
        raise HttpAuthError(401, f"auth event is for another method (method tag: {signed_method!r})")
    signed_payload = _tag(event, "payload")
    if body and signed_payload is None:
        raise HttpAuthError(401, "auth event has no payload tag for a request with a body")
    if signed_payload is not None and signed_payload.lower() != payload_hash(body):
        raise HttpAuthError(401, "auth event's payload tag is not the sha256 of the body")
    return str(event["pubkey"])


def authorize_request(header: str | None, *, url: str, method: str, body: bytes, now: int) -> str:
    """The pubkey that signed the `Authorization: Nostr <base64 event>` header for this request; else
    HttpAuthError(401, reason) — no header, a forged or malformed event, or one made for another request."""
    try:
        event = parse_authorization(header)
        verify_signature(event)
    except AuthError as exc:
        raise HttpAuthError(401, exc.reason) from None
    return check_request(event, url=url, method=method, body=body, now=now)
