import ipaddress
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bridge.url_guard import ForbiddenUrl, GuardedResolver, check_url, is_public, split_target
from tests.async_runner import run

TEREDO_TO_LOOPBACK = "2001:0:4136:e378:8000:63bf:80ff:fffe"  # server 65.54.227.120, client ~0x80fffffe = 127.0.0.1
TEREDO_TO_TEN = "2001:0:4136:e378:8000:63bf:f5ff:fffe"  # client 10.0.0.1
TEREDO_VIA_TEN = "2001:0:a00:1:8000:63bf:f7f7:f7f7"  # server 10.0.0.1, client 8.8.8.8


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::",
     "2002:7f00:1::1", "2002:a00:1::1", "fec0::1", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::808:808",
     TEREDO_TO_LOOPBACK, TEREDO_TO_TEN, TEREDO_VIA_TEN],
)  # fmt: skip
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"],
)
def test_public_addresses_are(address: str) -> None:
    """Wrapping a public IPv4 address is fine: the packets reach that address."""
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8700/blob", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:80/", "not a public address"),
        ("http://[::ffff:10.0.0.1]/", "IPv4-mapped address wrapping 10.0.0.1, not a public address"),
        ("http://[2002:7f00:1::1]/", "6to4 address wrapping 127.0.0.1"),
        ("http://[2002:a00:1::1]:8080/x", "6to4 address wrapping 10.0.0.1"),
        ("http://[fec0::1]/", r"site-local address \(fec0::/10\)"),
        ("http://[64:ff9b::7f00:1]/", "NAT64 address wrapping 127.0.0.1"),
        ("http://[64:ff9b::a00:1]/", "NAT64 address wrapping 10.0.0.1"),
        ("http://[64:ff9b:1::808:808]/", r"local-use NAT64 address \(64:ff9b:1::/48\)"),
        (f"http://[{TEREDO_TO_LOOPBACK}]/", "Teredo address whose client 127.0.0.1 is not a public address"),
        (f"http://[{TEREDO_TO_TEN}]/", "Teredo address whose client 10.0.0.1"),
        (f"http://[{TEREDO_VIA_TEN}]/", "Teredo address whose server 10.0.0.1"),
        ("http://127.1/", "not a canonical IP address"),  # legacy forms getaddrinfo maps onto 127.0.0.1
        ("http://2130706433/", "not a canonical IP address"),
        # dots aiohttp's URL parser (yarl) reads as ".": a literal it connects to without any resolver
        ("http://127\u30020\u30020\u30021:8700/", "127.0.0.1 is not a public address"),
        ("http://169\uff61254\uff61169\uff61254/", "169.254.169.254 is not a public address"),
        ("http://10\uff0e0\uff0e0\uff0e1/", "10.0.0.1 is not a public address"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/x", "only http and https"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "port is invalid"),
    ],
)
def test_forbidden_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ForbiddenUrl, match=reason):
        check_url(url)


def test_check_url_needs_no_dns_and_leaves_names_to_the_resolver() -> None:
    assert check_url("http://[2002:808:808::1]:8080/x") == ("2002:808:808::1", 8080)
    assert check_url("https://[64:ff9b::808:808]/x") == ("64:ff9b::808:808", 443)
    assert check_url("http://no-such-name.invalid/x") == ("no-such-name.invalid", 80)


def test_the_dev_allow_list_lets_named_hosts_through() -> None:
    check_url("http://127.0.0.1:8700/blob", frozenset({"127.0.0.1"}))
    with pytest.raises(ForbiddenUrl):
        check_url("http://127.0.0.2:8700/blob", frozenset({"127.0.0.1"}))


def test_split_target_defaults_ports() -> None:
    assert split_target("https://Media.Example/x") == ("media.example", 443)
    assert split_target("http://media.example:8080/x") == ("media.example", 8080)


class Scripted(AbstractResolver):
    """A DNS whose answers the test gives; counts the lookups."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers, self.lookups = answers, 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups += 1
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        pass


DNS = {
    "public.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
    "sixtofour.test": ["2002:a00:1::1"],
    "dev.test": ["127.0.0.1"],
}


def test_the_resolver_refuses_an_answer_with_any_address_that_is_not_public() -> None:
    async def go() -> None:
        guard = GuardedResolver(Scripted(DNS), frozenset({"dev.test"}))
        assert [a["host"] for a in await guard.resolve("public.test", 80)] == DNS["public.test"]
        with pytest.raises(ForbiddenUrl, match=r"mixed.test resolves to 127.0.0.1, not a public address"):
            await guard.resolve("mixed.test", 80)
        with pytest.raises(ForbiddenUrl, match=r"sixtofour.test resolves to 2002:a00:1::1, a 6to4 address wrapping"):
            await guard.resolve("sixtofour.test", 443)
        assert [a["host"] for a in await guard.resolve("dev.test", 80)] == ["127.0.0.1"]  # allow-listed
        await guard.check("https://public.test/announce")
        with pytest.raises(ForbiddenUrl, match="not a public address"):
            await guard.check("http://mixed.test:8000/announce")

    run(go())


def test_the_resolver_checks_the_machine_dns_by_default() -> None:
    async def go() -> None:
        guard = GuardedResolver()
        try:
            with pytest.raises(ForbiddenUrl, match=r"localhost resolves to .*not a public address"):
                await guard.check("http://localhost/blob")
        finally:
            await guard.close()

    run(go())


def test_a_session_with_the_guard_never_connects_to_a_refused_address() -> None:
    """ForbiddenUrl comes out of aiohttp as it is (not as a DNS error), before any connection."""
    hits: list[str] = []

    async def go() -> None:
        async def handler(request: web.Request) -> web.Response:
            hits.append(request.path)
            return web.Response(text="secret")

        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            guard = GuardedResolver(Scripted(DNS))
            connector = aiohttp.TCPConnector(resolver=guard, use_dns_cache=False)
            async with aiohttp.ClientSession(connector=connector) as session:
                with pytest.raises(ForbiddenUrl, match=r"mixed.test resolves to 127.0.0.1"):
                    await session.get(f"http://mixed.test:{port}/x")
                with pytest.raises(ForbiddenUrl, match=r"dev.test resolves to 127.0.0.1"):
                    await session.get(f"http://dev.test:{port}/x")
        finally:
            await runner.cleanup()

    run(go())
    assert hits == []
