"""Where a post's media is uploaded: the user's media servers in order, then the Bridge (getStorageProvider).

The order: the servers in the app's settings (as the user arranged them), then those of the user's Blossom
server list (kind 10063, BUD-03), then of their NIP-96 list (kind 10096), each once; the Bridge always last, the
server of last resort. Settings keep the protocol of each server ("blossom" or "nip96").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from asknostr.blocked_ports import check_port
from asknostr.nip01 import Event

BLOSSOM, NIP96 = "blossom", "nip96"
PROTOCOLS = (BLOSSOM, NIP96)
KIND_BLOSSOM_SERVERS = 10063
KIND_NIP96_SERVERS = 10096


@dataclass(frozen=True)
class MediaServer:
    protocol: str  # BLOSSOM or NIP96
    url: str  # normalised: scheme://host[:port][/path], no trailing slash
    bridge: bool = False

    @property
    def label(self) -> str:
        host = urlsplit(self.url).netloc
        return f"the Bridge ({host})" if self.bridge else host


def normalize_server_url(url: str) -> str:
    """Lowercase host, no trailing slash, https:// when no scheme is given; ValueError when not an http(s) URL."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ValueError(f"not a server URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        raise ValueError(f"a media server URL must be an https:// address (got {url!r})")
    if parts.query or parts.fragment:
        raise ValueError("a media server URL has no query or fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"a media server URL has an invalid port: {url!r}") from None
    check_port(port, "a media server")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def server_list(event: Event | None, tag_name: str) -> list[str]:
    """The normalised URLs of a server list event's `tag_name` tags (`server` for 10063, `server` for 10096)."""
    if event is None:
        return []
    urls = []
    for tag in event.get("tags", []):
        if len(tag) >= 2 and tag[0] == tag_name:
            try:
                urls.append(normalize_server_url(str(tag[1])))
            except ValueError:
                continue
    return list(dict.fromkeys(urls))


def list_tags(servers: Iterable[MediaServer], protocol: str) -> list[list[str]]:
    """The `server` tags of the user's list of `protocol` servers among `servers`, in order, never the Bridge:
    kind 10063 (BUD-03) for Blossom, kind 10096 for NIP-96."""
    return [["server", s.url] for s in servers if s.protocol == protocol and not s.bridge]


def changed_lists(
    servers: Sequence[MediaServer], published: Mapping[int, Event | None]
) -> list[tuple[int, list[list[str]]]]:
    """After the user edited their servers: (kind, tags) of each server list to publish again, the ones whose
    URLs differ from the version on the relays (`published`, by kind)."""
    edits = []
    for kind, protocol in ((KIND_BLOSSOM_SERVERS, BLOSSOM), (KIND_NIP96_SERVERS, NIP96)):
        tags = list_tags(servers, protocol)
        if [url for _, url in tags] != server_list(published.get(kind), "server"):
            edits.append((kind, tags))
    return edits


def storage_providers(
    settings: Sequence[MediaServer],
    blossom_list: Sequence[str],
    nip96_list: Sequence[str],
    bridge_url: str | None,
) -> list[MediaServer]:
    """Upload targets in the order to try them; the Bridge (a Blossom server) last, and only once."""
    ordered = [
        *settings,
        *(MediaServer(BLOSSOM, url) for url in blossom_list),
        *(MediaServer(NIP96, url) for url in nip96_list),
    ]
    bridge = normalize_server_url(bridge_url) if bridge_url else None
    seen: set[str] = set()
    providers = []
    for server in ordered:
        if server.url in seen or server.url == bridge:
            continue
        seen.add(server.url)
        providers.append(server)
    if bridge:
        providers.append(MediaServer(BLOSSOM, bridge, bridge=True))
    return providers
