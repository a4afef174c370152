"""Magnet links (BEP 9): the infoHash (`xt=urn:btih:`, hex or base32) and the display name (`dn`)."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

_BTIH = re.compile(r"xt=urn:btih:([0-9a-fA-F]{40}|[A-Za-z2-7]{32})")


def info_hash(magnet: str) -> str:
    """The 40-hex infoHash of a magnet link, or '' (base32 hashes are converted)."""
    found = _BTIH.search(magnet)
    if not found:
        return ""
    raw = found.group(1)
    if len(raw) == 40:
        return raw.lower()
    try:
        return base64.b32decode(raw.upper()).hex()
    except ValueError:
        return ""


def display_name(magnet: str) -> str:
    """The `dn` of a magnet link (the torrent's name, which is part of its infoHash), or ''."""
    if not magnet.startswith("magnet:?"):
        return ""
    names = parse_qs(urlsplit(magnet).query).get("dn")
    return names[0] if names else ""
