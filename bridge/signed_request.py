"""What the Bridge's NIP-98 endpoints (ping, heartbeat, TURN) share: reading a capped body whole, checking the
signature against the URL the client used — the Bridge's public URL (behind a TLS proxy the request itself
arrives as http://…) or the request's own — and the rate limits per client address (checked before the signature,
which costs more) and per signing key."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiohttp import web

from bridge import nip98
from bridge.errors import BridgeError
from bridge.rate_limit import RateLimiter


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


@dataclass(frozen=True)
class RequestLimits:
    """`what` (e.g. "heartbeats") a minute per client address and per signing key, each with bursts of half that;
    a refusal is BridgeError(429) with `Retry-After`."""

    what: str
    per_address: RateLimiter
    per_key: RateLimiter

    @classmethod
    def per_minute(cls, what: str, *, per_key: float, per_address: float) -> RequestLimits:
        return cls(what, _limiter(per_address), _limiter(per_key))

    def check_address(self, address: str, now: float) -> None:
        self._check(self.per_address, address, now, "address")

    def check_key(self, pubkey: str, now: float) -> None:
        self._check(self.per_key, pubkey, now, "key")

    def _check(self, limiter: RateLimiter, key: str, now: float, counted: str) -> None:
        wait = limiter.allow(key, now)
        if wait:
            raise BridgeError(429, f"too many {self.what} from this {counted}", {"Retry-After": str(math.ceil(wait))})


def _limiter(per_minute: float) -> RateLimiter:
    return RateLimiter(per_minute, burst=max(1.0, per_minute / 2))
