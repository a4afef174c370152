"""ICE servers (WebRTC's STUN and TURN) as the Bridge hands them out, and when to ask again.

The deployment's STUN servers come in /config.json; a TURN credential comes from `POST /api/turn` (NIP-98 signed)
and expires: the app asks for the next one well before, so a connection made at any moment has a valid one.
Pure: no browser, unit-tested in CPython.
"""

from __future__ import annotations

from dataclasses import dataclass

RENEW_AT = 0.8
"""Ask for the next credential when this share of the current one's life has passed."""
MIN_WAIT = 30.0


class IceError(ValueError):
    """An answer that is not ICE servers as the Bridge gives them; the message says what."""


@dataclass(frozen=True)
class IceGrant:
    servers: list[dict[str, object]]
    """RTCIceServer dicts: `urls` (a list of strings), and `username`, `credential` for TURN."""
    expires: float
    """Unix seconds when the TURN credential stops working."""


def _server(entry: object) -> dict[str, object]:
    if not isinstance(entry, dict):
        raise IceError("an ICE server must be an object")
    urls = entry.get("urls")
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise IceError("an ICE server needs urls")
    if not all(u.startswith(("stun:", "stuns:", "turn:", "turns:")) for u in urls):
        raise IceError("ICE server urls must be stun:, stuns:, turn: or turns:")
    server: dict[str, object] = {"urls": list(urls)}
    for key in ("username", "credential"):
        value = entry.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise IceError(f"an ICE server's {key} must be a string")
            server[key] = value
    return server


def stun_servers(config_value: object) -> list[dict[str, object]]:
    """The ICE servers of /config.json (STUN, no credentials); the unreadable ones left out."""
    servers = []
    for entry in config_value if isinstance(config_value, list) else []:
        try:
            servers.append(_server(entry))
        except IceError:
            continue
    return servers


def parse_grant(answer: object) -> IceGrant:
    """The Bridge's answer to `POST /api/turn`: `{"ice_servers": [...], "expires": <unix seconds>, "ttl": s}`."""
    if not isinstance(answer, dict) or not isinstance(answer.get("ice_servers"), list):
        raise IceError("the Bridge's TURN answer has no ice_servers")
    expires = answer.get("expires")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise IceError("the Bridge's TURN answer has no expiry")
    return IceGrant([_server(entry) for entry in answer["ice_servers"]], float(expires))


def renew_in(grant: IceGrant, now: float) -> float:
    """Seconds to wait before asking for the next credential."""
    return max(MIN_WAIT, (grant.expires - now) * RENEW_AT)


def _over_udp(url: str) -> bool:
    """A STUN URL, or a `turn:` one without `transport=tcp` (UDP is TURN's default); `turns:` is always TCP."""
    if url.startswith(("stun:", "stuns:")):
        return True
    return url.startswith("turn:") and "transport=tcp" not in url.partition("?")[2].lower()


def without_udp(servers: list[dict[str, object]], reached: frozenset[str] = frozenset()) -> list[dict[str, object]]:
    """`servers` with every URL reached over UDP left out: what a network that drops UDP can use. While a UDP STUN or
    TURN server is still asked, the browser's ICE gathering ends only when its requests time out (tens of seconds),
    and WebTorrent waits up to 5 s of it for every offer and answer: past the viewer's 5-second rule. With `reached`
    (the TURN URLs that gave a relay), only those: a TCP port the network drops stalls gathering the same way."""
    out = []
    for server in servers:
        listed = server.get("urls")
        urls = [u for u in listed if isinstance(u, str) and not _over_udp(u)] if isinstance(listed, list) else []
        urls = [u for u in urls if not reached or u in reached]
        if urls:
            out.append({**server, "urls": urls})
    return out


def udp_blocked(candidates: list[tuple[str, str]]) -> bool | None:
    """From the ICE candidates a browser gathered with the deployment's servers, as (type, relayProtocol) pairs:
    True when it reached the TURN server over TCP or TLS but nothing came back over UDP (no server-reflexive
    candidate, no relay over UDP), False once something did, None while that cannot be told (keep waiting)."""
    if any(kind == "srflx" or (kind == "relay" and protocol == "udp") for kind, protocol in candidates):
        return False
    if any(kind == "relay" and protocol in ("tcp", "tls") for kind, protocol in candidates):
        return True
    return None
