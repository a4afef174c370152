from asknostr.server_config import DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_MAX_FILE_BYTES, parse

ORIGIN = "https://app.example"


def test_no_config_means_the_origin_and_defaults() -> None:
    configs: tuple[object, ...] = (None, [], "x", {})
    for config in configs:
        parsed = parse(config, ORIGIN)
        assert parsed.bridge_url == parsed.bridge_media_url == ORIGIN
        assert parsed.max_file_bytes == DEFAULT_MAX_FILE_BYTES
        assert parsed.heartbeat_interval == DEFAULT_HEARTBEAT_INTERVAL
        assert parsed.turn is False


def test_values_are_taken_when_valid() -> None:
    parsed = parse(
        {
            "bridge": "https://bridge.example",
            "bridge_media": "https://media.example",
            "max_upload_bytes": 5_000_000_000,
            "heartbeat_interval": 2.5,
            "turn": True,
            "ice_servers": [{"urls": "stun:stun.example:3478"}],
        },
        ORIGIN,
    )
    assert parsed.bridge_url == "https://bridge.example"
    assert parsed.bridge_media_url == "https://media.example"
    assert parsed.max_file_bytes == 5_000_000_000
    assert parsed.heartbeat_interval == 2.5
    assert parsed.turn is True
    assert parsed.stun == [{"urls": "stun:stun.example:3478"}]


def test_media_defaults_to_the_bridge() -> None:
    assert parse({"bridge": "https://bridge.example"}, ORIGIN).bridge_media_url == "https://bridge.example"


def test_wrong_types_fall_back() -> None:
    parsed = parse(
        {"bridge": 7, "bridge_media": "", "max_upload_bytes": True, "heartbeat_interval": -1, "turn": "yes"}, ORIGIN
    )
    assert parsed.bridge_url == parsed.bridge_media_url == ORIGIN
    assert parsed.max_file_bytes == DEFAULT_MAX_FILE_BYTES
    assert parsed.heartbeat_interval == DEFAULT_HEARTBEAT_INTERVAL
    assert parsed.turn is False
    assert parse({"max_upload_bytes": "100", "heartbeat_interval": True}, ORIGIN).max_file_bytes == (
        DEFAULT_MAX_FILE_BYTES
    )
