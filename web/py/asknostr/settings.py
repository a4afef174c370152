"""The user's settings (relays, trackers, media servers): defaults, persistence format, edits."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

from asknostr.auto_seed import DEFAULT_SIZE_CAP
from asknostr.media_servers import PROTOCOLS, MediaServer, normalize_server_url
from asknostr.nip65 import normalize_relay_url
from asknostr.quota_pruner import DEFAULT_QUOTA

MOST_MB = 10_000_000
"""The largest size the storage settings take (10 TB)."""
FALLBACK_RELAYS = ("wss://relay.damus.io", "wss://nos.lol")
"""Used only when neither the user nor the server that served the app names any relay."""


@dataclass(frozen=True)
class Settings:
    relays: tuple[str, ...] = ()
    trackers: tuple[str, ...] = ()
    media_servers: tuple[MediaServer, ...] = ()
    """The user's upload targets in order (the Bridge is not among them: it is always tried last)."""
    quota_bytes: int = DEFAULT_QUOTA
    """Space for the media this browser keeps and seeds."""
    auto_seed_cap: int = DEFAULT_SIZE_CAP
    """Largest file joined automatically from a followed creator's post."""

    def with_storage(self, quota_mb: str, cap_mb: str) -> Settings:
        """The space for shared media and the automatic-sharing limit, as typed (MB); ValueError in the app's words
        when they are not sizes it can keep to."""
        try:
            quota, cap = float(quota_mb), float(cap_mb)
        except ValueError:
            raise ValueError("enter both sizes in MB, as numbers") from None
        if not (math.isfinite(quota) and math.isfinite(cap)) or quota < 10 or cap < 1:
            raise ValueError("the space must be at least 10 MB, the automatic limit at least 1 MB")
        if quota > MOST_MB or cap > MOST_MB:
            raise ValueError(f"at most {MOST_MB:,} MB: more than any browser gives a site")
        return replace(self, quota_bytes=int(quota * 1e6), auto_seed_cap=int(cap * 1e6))

    def with_relay(self, url: str) -> Settings:
        """Add a relay (normalised); ValueError with a clear message when it is not a ws(s):// URL."""
        normalized = normalize_relay_url(url)
        if normalized in self.relays:
            return self
        return replace(self, relays=(*self.relays, normalized))

    def without_relay(self, url: str) -> Settings:
        return replace(self, relays=tuple(r for r in self.relays if r != url))

    def with_media_servers(self, servers: list[MediaServer]) -> Settings:
        return replace(self, media_servers=tuple(dict.fromkeys(s for s in servers if not s.bridge)))

    def to_json(self) -> str:
        servers = [{"protocol": s.protocol, "url": s.url} for s in self.media_servers]
        return json.dumps(
            {
                "relays": list(self.relays),
                "trackers": list(self.trackers),
                "media_servers": servers,
                "quota_bytes": self.quota_bytes,
                "auto_seed_cap": self.auto_seed_cap,
            }
        )

    @staticmethod
    def from_json(text: str | None) -> Settings | None:
        """Saved settings, or None when there are none or they cannot be read (never raises)."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return Settings(
            relays=_relay_urls(data.get("relays")),
            trackers=_strings(data.get("trackers")),
            media_servers=_media_servers(data.get("media_servers")),
            quota_bytes=_positive(data.get("quota_bytes"), DEFAULT_QUOTA),
            auto_seed_cap=_positive(data.get("auto_seed_cap"), DEFAULT_SIZE_CAP),
        )


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))


def _relay_urls(value: object) -> tuple[str, ...]:
    urls: list[str] = []
    for item in _strings(value):
        try:
            urls.append(normalize_relay_url(item))
        except ValueError:
            continue
    return tuple(dict.fromkeys(urls))


def _positive(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _media_servers(value: object) -> tuple[MediaServer, ...]:
    servers: list[MediaServer] = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or item.get("protocol") not in PROTOCOLS or not isinstance(item.get("url"), str):
            continue
        try:
            servers.append(MediaServer(str(item["protocol"]), normalize_server_url(item["url"])))
        except ValueError:
            continue
    return tuple(dict.fromkeys(servers))


def initial_settings(saved: Settings | None, server_config: object) -> Settings:
    """The user's saved settings win; else what the serving Bridge offers (/config.json); else the fallbacks.

    Trackers always include the server's, so a deployment can add one without users losing theirs.
    """
    server = Settings.from_json(json.dumps(server_config)) if isinstance(server_config, dict) else None
    server_trackers = server.trackers if server else ()
    if saved and saved.relays:
        return replace(saved, trackers=tuple(dict.fromkeys((*saved.trackers, *server_trackers))))
    relays = server.relays if server and server.relays else FALLBACK_RELAYS
    return Settings(relays=relays, trackers=server_trackers)
