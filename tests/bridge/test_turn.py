"""TURN credentials: the Bridge hands them out only to signed requests, within rate limits; the real TURN server
(coturn, started here) relays for them, and refuses expired and forged ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint

from bridge.config import BridgeConfig
from bridge.turn import credential
from devstack.services import Service, free_port, start_turn
from tests.bridge.client import request, signed_post
from tests.bridge.inprocess import InProcessBridge
from tests.unit.nostr_keys import keypair

SECRET = "the secret the Bridge and coturn share"
USER = keypair(700)


@pytest.fixture(scope="module")
def turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_turn(tmp_path_factory.mktemp("turn"), free_port(), secret=SECRET)
    yield service
    service.stop()


@pytest.fixture
def bridge(tmp_path: Path, turn: Service) -> Iterator[InProcessBridge]:
    config = BridgeConfig(
        data_dir=tmp_path / "bridge",
        retention_interval=0,
        stun=turn.url.removeprefix("turn:"),
        turn=(f"{turn.url}?transport=udp",),
        turn_secret=SECRET,
        turn_ttl=600,
    )
    with InProcessBridge(config) as running:
        yield running


async def allocate(turn: Service, username: str, password: str) -> tuple[str, int]:
    """A TURN allocation with these credentials (a real TURN client); the relayed address coturn gave."""
    host, port = turn.url.removeprefix("turn:").rsplit(":", 1)
    transport, _protocol = await create_turn_endpoint(
        asyncio.DatagramProtocol, (host, int(port)), username=username, password=password, lifetime=60
    )
    try:
        relayed: tuple[str, int] = transport.get_extra_info("sockname")
        return relayed
    finally:
        transport.close()


def turn_refuses(turn: Service, username: str, password: str) -> int:
    """The STUN error code coturn answers an Allocate with these credentials (0: it allocated)."""
    try:
        asyncio.run(allocate(turn, username, password))
    except stun.TransactionFailed as exc:
        code: int = exc.response.attributes["ERROR-CODE"][0]
        return code
    return 0


def test_a_signed_request_gets_credentials_the_turn_server_relays_for(bridge: InProcessBridge, turn: Service) -> None:
    status, config = request("GET", f"{bridge.url}/config.json", b"", {})
    assert status == 200 and config["turn"] is True
    assert config["ice_servers"] == [{"urls": f"stun:{turn.url.removeprefix('turn:')}"}]

    status, answer = signed_post(f"{bridge.url}/api/turn", {}, USER[0], now=bridge.clock())
    assert status == 200, answer
    stun_server, turn_server = answer["ice_servers"]
    assert stun_server == {"urls": [f"stun:{turn.url.removeprefix('turn:')}"]}
    assert turn_server["urls"] == [f"{turn.url}?transport=udp"]
    expires, pubkey = turn_server["username"].split(":")
    assert pubkey == USER[1] and int(expires) == answer["expires"]
    assert 590 <= answer["expires"] - time.time() <= 610
    relayed_host, relayed_port = asyncio.run(allocate(turn, turn_server["username"], turn_server["credential"]))
    assert relayed_host == "127.0.0.1" and 49152 <= relayed_port <= 49999


def test_expired_and_forged_credentials_are_refused_by_the_turn_server(turn: Service) -> None:
    now = int(time.time())
    assert turn_refuses(turn, *credential(SECRET, USER[1], now + 600)) == 0  # the same scheme, in date: relayed
    assert turn_refuses(turn, *credential(SECRET, USER[1], now - 5)) == 401  # expired
    assert turn_refuses(turn, *credential("another secret", USER[1], now + 600)) == 401  # forged
    username, _ = credential(SECRET, USER[1], now + 600)
    _, other_password = credential(SECRET, USER[1], now + 601)
    assert turn_refuses(turn, username, other_password) == 401  # a password made for another username
    assert turn_refuses(turn, "anyone", "anything") == 401  # an open relay it is not


def test_credentials_need_a_signature_and_are_rate_limited(bridge: InProcessBridge) -> None:
    url = f"{bridge.url}/api/turn"
    status, answer = request("POST", url, b"{}", {"Content-Type": "application/json"})
    assert status == 401 and answer["error"]
    status, answer = signed_post(url, {}, USER[0], now=bridge.clock() - 3600)
    assert status == 401 and "last 60 s" in answer["error"]
    codes = [signed_post(url, {}, keypair(701)[0], now=bridge.clock())[0] for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]  # a burst of 3, then one every 10 s per key
    assert signed_post(url, {}, keypair(702)[0], now=bridge.clock())[0] == 200  # other keys go on


def test_a_bridge_without_turn_says_so(tmp_path: Path) -> None:
    with InProcessBridge(BridgeConfig(data_dir=tmp_path / "bridge", retention_interval=0)) as bridge:
        status, config = request("GET", f"{bridge.url}/config.json", b"", {})
        assert status == 200 and config["turn"] is False and config["ice_servers"] == []
        status, answer = signed_post(f"{bridge.url}/api/turn", {}, USER[0], now=bridge.clock())
        assert status == 404 and "no TURN server" in answer["error"]


def test_behind_a_trusted_proxy_each_client_has_its_own_address_limit(tmp_path: Path, turn: Service) -> None:
    """Behind Caddy every request comes from 127.0.0.1: a limit per address would be one for everyone."""
    config = BridgeConfig(
        data_dir=tmp_path / "bridge",
        retention_interval=0,
        turn=(f"{turn.url}?transport=udp",),
        turn_secret=SECRET,
        turn_per_address_per_minute=2,  # a burst of 1
        trusted_proxies=("127.0.0.1",),
    )
    with InProcessBridge(config) as bridge:

        def ask(client: str, key: int) -> int:
            status: int = signed_post(
                f"{bridge.url}/api/turn", {}, keypair(key)[0], now=bridge.clock(), forwarded_for=client
            )[0]
            return status

        assert [ask("203.0.113.9", 710), ask("203.0.113.9", 711)] == [200, 429]
        assert ask("198.51.100.7", 712) == 200  # another client behind the same proxy: its own limit
        assert ask("198.51.100.7, 203.0.113.10", 713) == 200  # what the client wrote itself is not believed
