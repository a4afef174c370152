import ipaddress

import pytest

from bridge.url_guard import ForbiddenUrl, check_url, is_public, split_target
from tests.async_runner import run


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::"],
)  # fmt: skip
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_public_addresses_are() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8700/blob", "127.0.0.1"),
        ("http://localhost/blob", "not a public address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:80/", "not a public address"),
        ("http://[::ffff:10.0.0.1]/", "not a public address"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/x", "only http and https"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "port is invalid"),
    ],
)
def test_forbidden_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ForbiddenUrl, match=reason):
        run(check_url(url))


def test_the_dev_allow_list_lets_named_hosts_through() -> None:
    run(check_url("http://127.0.0.1:8700/blob", frozenset({"127.0.0.1"})))
    with pytest.raises(ForbiddenUrl):
        run(check_url("http://127.0.0.2:8700/blob", frozenset({"127.0.0.1"})))


def test_split_target_defaults_ports() -> None:
    assert split_target("https://Media.Example/x") == ("media.example", 443)
    assert split_target("http://media.example:8080/x") == ("media.example", 8080)
