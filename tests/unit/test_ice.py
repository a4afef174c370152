"""ICE servers from the Bridge (asknostr.ice): the TURN answer read, bad ones refused, renewal well before expiry."""

from __future__ import annotations

import pytest

from asknostr.ice import IceError, IceGrant, parse_grant, renew_in, stun_servers, udp_blocked, without_udp

TURN: dict[str, object] = {
    "urls": ["turn:198.18.0.1:3478?transport=udp"],
    "username": "1800000000:ab",
    "credential": "c2VjcmV0",
}


def test_the_bridges_answer_becomes_ice_servers() -> None:
    grant = parse_grant({"ice_servers": [{"urls": ["stun:198.18.0.1:3478"]}, TURN], "expires": 1800000000, "ttl": 3600})
    assert grant == IceGrant([{"urls": ["stun:198.18.0.1:3478"]}, TURN], 1800000000.0)


@pytest.mark.parametrize(
    "answer",
    [
        None,
        {"ice_servers": [TURN]},  # no expiry
        {"ice_servers": [TURN], "expires": True},
        {"ice_servers": "turn:x", "expires": 1},
        {"ice_servers": [{"urls": []}], "expires": 1},
        {"ice_servers": [{"urls": ["https://x"]}], "expires": 1},
        {"ice_servers": [{**TURN, "credential": 5}], "expires": 1},
    ],
)
def test_anything_else_is_refused(answer: object) -> None:
    with pytest.raises(IceError):
        parse_grant(answer)


def test_config_stun_servers_keep_the_readable_ones() -> None:
    assert stun_servers([{"urls": "stun:a:3478"}, {"urls": "http://x"}, "x"]) == [{"urls": ["stun:a:3478"]}]
    assert stun_servers(None) == []


def test_the_next_credential_is_asked_for_well_before_expiry() -> None:
    grant = IceGrant([TURN], expires=1000 + 3600)
    assert renew_in(grant, now=1000) == pytest.approx(2880)  # at 80 % of its life
    assert renew_in(grant, now=1000 + 3590) == 30  # never a busy loop


def test_a_network_without_udp_keeps_turn_over_tcp_and_tls_only() -> None:
    stun: dict[str, object] = {"urls": ["stun:198.18.0.1:3478"]}
    turn = {
        **TURN,
        "urls": [
            "turn:198.18.0.1:3478?transport=udp",
            "turn:198.18.0.1:3478",  # UDP: TURN's default transport
            "turn:198.18.0.1:3478?transport=tcp",
            "turns:198.18.0.1:443?transport=tcp",
        ],
    }
    kept = without_udp([stun, turn])
    assert kept == [{**TURN, "urls": ["turn:198.18.0.1:3478?transport=tcp", "turns:198.18.0.1:443?transport=tcp"]}]
    assert without_udp([stun, TURN]) == []  # nothing over TCP offered: nothing left


@pytest.mark.parametrize(
    ("candidates", "blocked"),
    [
        ([], None),
        ([("host", "")], None),
        ([("host", ""), ("srflx", "")], False),
        ([("relay", "tcp"), ("relay", "udp")], False),
        ([("host", ""), ("relay", "tcp")], True),
        ([("relay", "tls")], True),
    ],
)
def test_udp_is_blocked_when_only_tcp_or_tls_reached_the_turn_server(
    candidates: list[tuple[str, str]], blocked: bool | None
) -> None:
    assert udp_blocked(candidates) is blocked


def test_only_the_turn_urls_that_gave_a_relay_are_kept_when_told() -> None:
    turn = {**TURN, "urls": ["turn:198.18.0.1:3478?transport=tcp", "turns:198.18.0.1:443?transport=tcp"]}
    reached = frozenset({"turns:198.18.0.1:443?transport=tcp"})
    assert without_udp([turn], reached) == [{**TURN, "urls": ["turns:198.18.0.1:443?transport=tcp"]}]
