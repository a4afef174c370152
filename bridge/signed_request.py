"""What the Bridge's NIP-98 endpoints (ping, heartbeat) share: reading a capped body whole, and checking the
signature against the URL the client used — the Bridge's public URL (behind a TLS proxy the request itself
arrives as http://…) or the request's own."""

from __future__ import annotations

from aiohttp import web

from bridge import nip98
from bridge.errors import BridgeError


async def read_body(request: web.Request, cap: int, what: str) -> bytes:
    """The whole body (however many TCP segments it came in); BridgeError(413) beyond `cap` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > cap:
            raise BridgeError(413, f"{what} body larger than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def signer_of(request: web.Request, body: bytes, now: int, public_url: str) -> str:
    """The pubkey whose NIP-98 event authorises this request; BridgeError(401) otherwise."""
    urls = [public_url.rstrip("/") + request.path_qs] if public_url else []
    return nip98.authorize_request(
        request.headers.get("Authorization"), urls=[*urls, str(request.url)], method=request.method, body=body, now=now
    )
