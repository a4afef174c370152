import pytest

from asknostr.settings import FALLBACK_RELAYS, Settings, initial_settings


def test_saved_settings_win_and_keep_the_server_trackers() -> None:
    saved = Settings(relays=("wss://mine.example",), trackers=("wss://t1.example",))
    server = {"relays": ["ws://127.0.0.1:8701"], "trackers": ["ws://127.0.0.1:8702"]}
    settings = initial_settings(saved, server)
    assert settings.relays == ("wss://mine.example",)
    assert settings.trackers == ("wss://t1.example", "ws://127.0.0.1:8702")


def test_server_defaults_then_fallbacks() -> None:
    server = {"relays": ["ws://127.0.0.1:8701/", "https://not-a-relay"], "trackers": []}
    assert initial_settings(None, server).relays == ("ws://127.0.0.1:8701",)
    assert initial_settings(None, None).relays == FALLBACK_RELAYS
    assert initial_settings(Settings(), {"relays": []}).relays == FALLBACK_RELAYS


def test_round_trip_and_tolerant_reading() -> None:
    settings = Settings(relays=("wss://a.example", "wss://b.example"), trackers=("wss://t.example",))
    assert Settings.from_json(settings.to_json()) == settings
    for broken in (None, "", "{", "[]", '{"relays": 5}'):
        loaded = Settings.from_json(broken)
        assert loaded is None or loaded.relays == ()


def test_add_and_remove_relays() -> None:
    settings = Settings(relays=("wss://a.example",))
    added = settings.with_relay("  WSS://B.example/ ")
    assert added.relays == ("wss://a.example", "wss://b.example")
    assert added.with_relay("wss://b.example") is added
    assert added.without_relay("wss://a.example").relays == ("wss://b.example",)
    with pytest.raises(ValueError, match="wss://"):
        settings.with_relay("https://relay.example")
