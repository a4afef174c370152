"""Settings the app refuses in its own words: addresses on ports browsers never connect to (asknostr.blocked_ports)
and storage sizes it cannot keep to."""

from __future__ import annotations

import pytest

from asknostr.media_servers import normalize_server_url
from asknostr.nip65 import normalize_relay_url
from asknostr.settings import Settings


@pytest.mark.parametrize("url", ["ws://127.0.0.1:9", "wss://relay.example:25", "ws://[::1]:6667", "ws://a.example:0"])
def test_a_relay_on_a_port_browsers_refuse_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="browsers refuse to connect to port"):
        Settings().with_relay(url)


@pytest.mark.parametrize("url", ["https://localhost:1/", "http://media.example:22", "media.example:6697"])
def test_a_media_server_on_a_port_browsers_refuse_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="cannot be a media server's address"):
        normalize_server_url(url)


def test_usual_ports_and_defaults_are_taken() -> None:
    assert normalize_relay_url("ws://127.0.0.1:7777") == "ws://127.0.0.1:7777"
    assert normalize_relay_url("wss://relay.example:443/") == "wss://relay.example"
    assert normalize_server_url("https://media.example:8443/") == "https://media.example:8443"
    with pytest.raises(ValueError, match="invalid port"):
        normalize_server_url("https://media.example:99999")


@pytest.mark.parametrize(
    ("quota", "cap", "said"),
    [
        ("abc", "5", "as numbers"),
        ("", "5", "as numbers"),
        ("5", "5", "at least 10 MB"),
        ("nan", "5", "at least 10 MB"),
        ("inf", "5", "at least 10 MB"),
        ("500", "-1", "at least 1 MB"),
        ("1e12", "5", "at most"),
    ],
)
def test_storage_sizes_it_cannot_keep_to_are_refused(quota: str, cap: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        Settings().with_storage(quota, cap)


def test_storage_sizes_are_kept_in_bytes() -> None:
    settings = Settings().with_storage(" 750 ", "20.5")
    assert (settings.quota_bytes, settings.auto_seed_cap) == (750_000_000, 20_500_000)
