"""NIP-98 HTTP auth, client side: the kind 27235 event that signs one request, and its Authorization header.

Also the header format Blossom (BUD-11) reuses for its kind 24242 events: `Nostr <base64 of the event JSON>`.
"""

from __future__ import annotations

import base64
import hashlib
import json

from asknostr.nip01 import Event

KIND_HTTP_AUTH = 27235


def http_auth_template(url: str, method: str, body: bytes | None, now: int) -> dict[str, object]:
    """The unsigned event for `method url` (with the body's sha256 as `payload` when there is a body)."""
    tags = [["u", url], ["method", method.upper()]]
    if body:
        tags.append(["payload", hashlib.sha256(body).hexdigest()])
    return {"kind": KIND_HTTP_AUTH, "created_at": now, "tags": tags, "content": ""}


def authorization(event: Event) -> str:
    """The `Authorization` header value carrying a signed event."""
    raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    return "Nostr " + base64.b64encode(raw).decode()
