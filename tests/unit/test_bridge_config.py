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
