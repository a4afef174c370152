"""NIP-65: relay list metadata (kind 10002) and relay URL normalisation."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

from asknostr.blocked_ports import check_port
from asknostr.nip01 import Event


def _ipaddress() -> ModuleType:
    """The ipaddress module, imported when first needed: it is a quarter of the app's import time at start."""
    import ipaddress

    return ipaddress


KIND_RELAY_LIST = 10002
_DEFAULT_PORTS = {"ws": 80, "wss": 443}
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")


def normalize_relay_url(url: str) -> str:
    """The canonical form of a relay URL, so that the same relay compares equal.

    Lowercases scheme and host, drops a default port, a trailing slash and any fragment.
    """
    text = url.strip()
    if not text.lower().startswith(("ws://", "wss://")):
        raise ValueError("relay URL must start with wss:// or ws://")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ValueError(f"relay URL must not contain spaces or control characters: {url!r}")
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{_ipaddress().IPv6Address(host)}]"
    except ValueError:
        raise ValueError(f"relay URL has an invalid host or port: {url!r}") from None
    if not host.startswith("[") and not _HOSTNAME.fullmatch(host):
        raise ValueError(f"relay URL has an invalid host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("relay URL must not contain a user name or password")
    check_port(port, "a relay")
    scheme = parts.scheme  # urlsplit lowercases it
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.removesuffix("/"), parts.query, ""))


@dataclass(frozen=True)
class RelayEntry:
    """A relay of a user's relay list, used for reading, writing or both."""

    url: str
    read: bool = True
    write: bool = True


def parse_relay_list(event: Event) -> list[RelayEntry]:
    """The relays of a kind 10002 event; invalid URLs skipped, repeats merged."""
    if event["kind"] != KIND_RELAY_LIST:
        raise ValueError(f"not a relay list: kind {event['kind']}, expected {KIND_RELAY_LIST}")
    entries: dict[str, RelayEntry] = {}
    for tag in event["tags"]:
        if tag[0] != "r" or len(tag) < 2:
            continue
        try:
            url = normalize_relay_url(tag[1])
        except ValueError:
            continue
        marker = tag[2] if len(tag) > 2 else ""
        read, write = marker != "write", marker != "read"
        if url in entries:
            read, write = read or entries[url].read, write or entries[url].write
        entries[url] = RelayEntry(url, read, write)
    return list(entries.values())


def relay_list_tags(entries: Iterable[RelayEntry]) -> list[list[str]]:
    """The `r` tags of a kind 10002 event; entries neither read nor written are left out."""
    tags = []
    for entry in entries:
        if entry.read and entry.write:
            tags.append(["r", entry.url])
        elif entry.read or entry.write:
            tags.append(["r", entry.url, "read" if entry.read else "write"])
    return tags


def merge_relays(
    defaults: list[str], entries: list[RelayEntry], *, for_reading: bool = True, limit: int = 8
) -> list[str]:
    """The user's read (or write) relays then the defaults: normalised, deduplicated, at most limit."""
    mine = [entry.url for entry in entries if (entry.read if for_reading else entry.write)]
    merged: list[str] = []
    for candidate in mine + defaults:
        try:
            url = normalize_relay_url(candidate)
        except ValueError:
            continue
        if url not in merged:
            merged.append(url)
    return merged[:limit]
