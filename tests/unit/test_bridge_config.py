"""The Bridge's command line (bridge.config): what a deployment's options may be."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import parse_args


def test_turn_needs_its_secret_and_well_formed_values(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    config = parse_args(
        ["--turn", "turn:t.example:3478", "--turn-secret-file", str(secret), "--stun", "t.example:3478"]
    )
    assert config.turn == ("turn:t.example:3478",) and config.turn_secret == "s3cret"
    assert "s3cret" not in repr(config)  # never in a log line
    bad = [
        ["--turn", "turn:t.example:3478"],  # no secret
        ["--turn-secret-file", str(secret)],  # a secret for no server
        ["--turn", "https://t.example", "--turn-secret-file", str(secret)],
        ["--turn", "turn:t:3478", "--turn-secret-file", str(secret), "--turn-ttl", "nan"],
        ["--turn", "turn:t:3478", "--turn-secret-file", str(secret), "--turn-ttl", "inf"],
        ["--turn", "turn:t:3478", "--turn-secret-file", str(secret), "--turn-ttl", "0"],
        ["--turn", "turn:t:3478", "--turn-secret-file", str(tmp_path / "missing")],
        ["--stun", "stun:t.example:3478"],
        ["--trusted-proxy", "caddy"],
    ]
    for argv in bad:
        with pytest.raises(SystemExit):
            parse_args(argv)


def test_a_fleet_s_options() -> None:
    config = parse_args(
        [
            "--database-url",
            "postgresql://bridge@db.example:5432/asknostr",
            "--s3-endpoint",
            "https://s3.example",
            "--s3-bucket",
            "blobs",
            "--lease-seconds",
            "12",
            "--take-back-below",
            "2",
        ]
    )
    assert (config.database_url, config.s3_endpoint, config.s3_bucket) == (
        "postgresql://bridge@db.example:5432/asknostr",
        "https://s3.example",
        "blobs",
    )
    assert (config.lease_ttl, config.take_back_below) == (12.0, 2)
    assert "db.example" not in repr(config)  # a database URL may carry a password: never in a log line
    assert parse_args([]).database_url == "" and parse_args([]).s3_endpoint == ""  # SQLite and the disk
    bad = [
        ["--database-url", "mysql://db.example/asknostr"],
        ["--s3-endpoint", "s3.example:8333"],  # no scheme
        ["--lease-seconds", "1"],
        ["--lease-seconds", "nan"],
        ["--take-back-below", "11"],  # above --handoff-seeders (10): a torrent would bounce back at once
        ["--take-back-below", "-1"],
        ["--step-back-holders", "-1"],
        ["--step-back-rate", "0"],
        ["--step-back-rate", "300000"],  # above the share rate: it would send more to a swarm that needs it less
    ]
    for argv in bad:
        with pytest.raises(SystemExit):
            parse_args(argv)


def test_the_step_back_options() -> None:
    config = parse_args(["--step-back-holders", "5", "--step-back-share-rate", "100000", "--step-back-rate", "5000"])
    assert (config.step_back_holders, config.step_back_share_rate, config.step_back_rate) == (5, 100_000, 5000)
    assert parse_args([]).step_back_holders == 3
