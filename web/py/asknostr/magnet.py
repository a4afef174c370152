"""Magnet links (BEP 9): the one parser of the app and the Bridge. The infoHash (`xt=urn:btih:`, hex or base32),
the trackers (`tr`: WebSocket and HTTP ones) and the display name (`dn`)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


class MagnetError(ValueError):
    """Not a magnet link this app can use; the message says why."""


@dataclass(frozen=True)
class Magnet:
    info_hash: str
    """40 lowercase hex."""
    trackers: tuple[str, ...] = ()
    name: str = ""


def parse(uri: str) -> Magnet:
    """The magnet link's parts; MagnetError when it is not a magnet or has no usable `xt=urn:btih:`."""
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        raise MagnetError("not a magnet link: it must start with magnet:?") from None
    if parts.scheme != "magnet":
        raise MagnetError("not a magnet link: it must start with magnet:?")
    params = parse_qs(parts.query)
    hashes = [xt[len("urn:btih:") :] for xt in params.get("xt", []) if xt.lower().startswith("urn:btih:")]
    if not hashes:
        raise MagnetError("magnet link has no xt=urn:btih:<infoHash>")
    raw = hashes[0]
    if len(raw) == 40 and all(c in "0123456789abcdefABCDEF" for c in raw):
        info_hash = raw.lower()
    elif len(raw) == 32:
        try:
            info_hash = base64.b32decode(raw.upper()).hex()
        except (binascii.Error, ValueError):
            raise MagnetError("magnet infoHash is not valid base32") from None
    else:
        raise MagnetError("magnet infoHash must be 40 hex or 32 base32 characters")
    trackers = tuple(dict.fromkeys(t for t in params.get("tr", []) if t.startswith(("ws://", "wss://", "http"))))
    return Magnet(info_hash, trackers, (params.get("dn") or [""])[0])


def info_hash(magnet: str) -> str:
    """The 40-hex infoHash of a magnet link, or '' when it has none."""
    try:
        return parse(magnet).info_hash
    except MagnetError:
        return ""


def display_name(magnet: str) -> str:
    """The `dn` of a magnet link (the torrent's name, which is part of its infoHash), or ''."""
    try:
        return parse(magnet).name
    except MagnetError:
        return ""
