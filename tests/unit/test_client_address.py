"""The client's address behind a reverse proxy (bridge.client_address): only trusted proxies' X-Forwarded-For."""

from __future__ import annotations

from bridge.client_address import client_address

PROXY = frozenset({"127.0.0.1"})


def test_a_direct_client_is_its_own_address_whatever_it_claims() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", PROXY) == "203.0.113.9"
    assert client_address("203.0.113.9", None, frozenset()) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_client_is_what_the_proxy_appended() -> None:
    assert client_address("127.0.0.1", "203.0.113.9", PROXY) == "203.0.113.9"
    # a client's own X-Forwarded-For comes first; the proxy appends the address it saw: that one counts
    assert client_address("127.0.0.1", "198.51.100.1, 203.0.113.9", PROXY) == "203.0.113.9"
    assert client_address("127.0.0.1", "203.0.113.9, 127.0.0.1", PROXY) == "203.0.113.9"  # two proxies
    assert client_address("127.0.0.1", "2001:db8::1", PROXY) == "2001:db8::1"


def test_nothing_readable_means_the_proxy_itself() -> None:
    assert client_address("127.0.0.1", None, PROXY) == "127.0.0.1"
    assert client_address("127.0.0.1", "junk", PROXY) == "127.0.0.1"
    assert client_address("127.0.0.1", "junk, 203.0.113.9", PROXY) == "203.0.113.9"
