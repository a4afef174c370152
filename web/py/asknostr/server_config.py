"""What the serving Bridge tells the app in /config.json, read once at start.

Every field is optional and checked: a missing or wrong value falls back to the app's default, so a half-written
or older config never stops the app from starting. Pure: unit-tested in CPython.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024
"""Largest file posted when the Bridge does not say its own limit."""
DEFAULT_HEARTBEAT_INTERVAL = 60.0


@dataclass(frozen=True)
class ServerConfig:
    bridge_url: str
    """The Bridge's API (pings, heartbeats, TURN credentials); the app's own origin unless the config names one."""
    bridge_media_url: str
    """The Bridge's Blossom server: the blobs' own origin, never the app's."""
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    stun: object = None
    """The raw `ice_servers` entry, checked by asknostr.ice.stun_servers."""
    turn: bool = False
    """Whether the Bridge hands out TURN credentials."""
    raw: dict[str, object] = field(default_factory=dict)
    """The whole config, for asknostr.settings.initial_settings (relays, trackers)."""


def parse(config: object, origin: str) -> ServerConfig:
    """The config's values, each checked, with `origin` (the page's) as the Bridge when none is named."""
    raw: dict[str, object] = config if isinstance(config, dict) else {}

    def text(key: str, default: str) -> str:
        value = raw.get(key)
        return value if isinstance(value, str) and value else default

    bridge = text("bridge", origin)
    limit = raw.get("max_upload_bytes")
    interval = raw.get("heartbeat_interval")
    return ServerConfig(
        bridge_url=bridge,
        bridge_media_url=text("bridge_media", bridge),
        # bool is an int in Python: `true` is no limit
        max_file_bytes=limit
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
        else DEFAULT_MAX_FILE_BYTES,
        heartbeat_interval=(
            float(interval)
            if isinstance(interval, int | float) and not isinstance(interval, bool) and interval > 0
            else DEFAULT_HEARTBEAT_INTERVAL
        ),
        stun=raw.get("ice_servers"),
        turn=raw.get("turn") is True,
        raw=raw,
    )
