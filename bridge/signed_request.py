"""What the Bridge's NIP-98 endpoints (ping, heartbeat) share: reading a capped body whole, and checking the
signature against the URL the client used — the Bridge's public URL (behind a TLS proxy the request itself
arrives as http://…) or the request's own."""

from __future__ import annotations

from aiohttp import web

from bridge import nip98


class BodyTooLarge(Exception):
    pass


async def read_body(request: web.Request, cap: int) -> bytes:
    """The whole body (however many TCP segments it came in), or BodyTooLarge beyond `cap` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def signer_of(request: web.Request, body: bytes, now: int, public_url: str) -> str:
    """The pubkey whose NIP-98 event authorises this request; nip98.HttpAuthError otherwise."""
    header = request.headers.get("Authorization")
    urls = dict.fromkeys([public_url.rstrip("/") + request.path_qs if public_url else "", str(request.url)])
    error: nip98.HttpAuthError | None = None
    for url in filter(None, urls):
        try:
            return nip98.authorize_request(header, url=url, method=request.method, body=body, now=now)
        except nip98.HttpAuthError as exc:
            if "another URL" not in exc.reason:
                raise
            error = exc
    assert error is not None
    raise error
