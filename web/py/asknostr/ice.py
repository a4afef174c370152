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
