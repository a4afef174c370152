"""A simulated internet in network namespaces, for the tests and benchmarks of the swarm across NATs.

Built after the checked recipe `shared/recipes/webrtc-nat` (its README lists the traps this code avoids):
- `<name>-inet`: the internet, a bridge 198.18.0.1/24 (198.18.0.0/15 is the benchmarking range: no real host).
  The Bridge, the relay, the tracker and the TURN server listen there. Nothing routes out of it.
- a home per user behind its own NAT router: `<name>-r<i>` (WAN 198.18.0.<10+i>, LAN 10.0.<i>.1/24) and
  `<name>-h<i>` (10.0.<i>.2, default route via the router: Chromium gathers candidates only on an interface with
  one). Kinds: `cone` (MASQUERADE: port-preserving, endpoint-independent mapping, as most home routers),
  `symmetric` (MASQUERADE --random-fully: a new port per destination, as mobile carriers and many offices),
  `no-udp` (cone, and the router drops every UDP packet, as some offices and public networks do: WebRTC reaches
  peers only through TURN over TCP or TLS, HTTP works). `Internet.blocked` closes more for a while (the TURN ports).
- the process that builds it (the test run, itself in the private namespace of tools/netns.sh) joins the internet
  through a veth of its own, 198.18.0.254, so it reaches the services there; it is not routed anywhere else.

Routers drop unsolicited WAN packets at INPUT (else an early ICE check leaves a conntrack entry that makes
MASQUERADE pick another port and hole punching fails), forward nothing but to 198.18.0.0/24, and each namespace
gets a resolv.conf of its own (`ip netns exec` would give it the host's). `close()` deletes everything it made.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import ipaddress
import os
import shlex
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devstack.services import (
    WEB_ROOT,
    Service,
    free_port,
    start_bridge,
    start_relay,
    start_tracker,
    start_turn,
    stop_all,
)

INTERNET = "198.18.0.1"
TEST_HOST = "198.18.0.254"
KINDS = ("cone", "symmetric", "no-udp")
TURN_PORT = 3478
"""coturn's STUN and TURN over UDP and TCP."""
TURNS_PORT = 443
"""coturn's TURN over TLS: the HTTPS port, which networks that block UDP (and most other ports) still pass."""


class InternetError(RuntimeError):
    """The simulated internet could not be built (not root, no iptables…)."""


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise InternetError(f"{shlex.join(argv)}: {result.stderr.strip() or result.returncode}")


@dataclass(frozen=True)
class Home:
    name: str
    """The namespace a user's browser runs in."""
    router: str
    kind: str
    lan_address: str
    wan_address: str
    """The router's public address: what peers and servers see of this home."""


@dataclass
class Internet:
    name: str = field(default_factory=lambda: f"sw{os.getpid() % 100000}")
    homes: dict[str, Home] = field(default_factory=dict)
    _namespaces: list[str] = field(default_factory=list)

    @property
    def inet(self) -> str:
        return f"{self.name}-inet"

    def _netns(self, namespace: str) -> None:
        _run("ip", "netns", "add", namespace)
        self._namespaces.append(namespace)
        resolv = Path("/etc/netns") / namespace
        resolv.mkdir(parents=True, exist_ok=True)
        (resolv / "resolv.conf").write_text("nameserver 127.0.0.1\n")  # no DNS to the host's resolver
        _run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")

    def __enter__(self) -> Internet:
        return self.build()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def build(self) -> Internet:
        """The internet namespace and the test process's way into it (deleted again if this fails half way). Only
        inside the private namespace of tools/netns.sh: elsewhere the test port would sit on the host's own
        network, where the homes could reach its services."""
        if os.environ.get("ASKNOSTR_NETNS") != "1":
            raise InternetError("the simulated internet is built inside tools/netns.sh's private namespace only")
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self) -> None:
        self._netns(self.inet)
        inet = ("ip", "netns", "exec", self.inet)
        _run(*inet, "ip", "link", "add", "br0", "type", "bridge")
        _run(*inet, "ip", "addr", "add", f"{INTERNET}/24", "dev", "br0")
        _run(*inet, "ip", "link", "set", "br0", "up")
        _run(*inet, "sysctl", "-qw", "net.ipv4.ip_forward=0")
        # the test process's own port on the internet: a veth here, its peer on the bridge
        _run("ip", "link", "add", f"{self.name}-t", "type", "veth", "peer", "name", "tport", "netns", self.inet)
        _run(*inet, "ip", "link", "set", "tport", "master", "br0", "up")
        _run("ip", "addr", "add", f"{TEST_HOST}/24", "dev", f"{self.name}-t")
        _run("ip", "link", "set", f"{self.name}-t", "up")

    def add_homes(self, kinds: dict[str, str]) -> Internet:
        """A home per user, of the kind given (`KINDS`)."""
        for user, kind in kinds.items():
            self.add_home(user, kind)
        return self

    def add_home(self, user: str, kind: str) -> Home:
        if kind not in KINDS:
            raise ValueError(f"a home is {', '.join(KINDS)}, not {kind!r}")
        i = len(self.homes) + 1
        router, home = f"{self.name}-r{i}", f"{self.name}-h{i}"
        self._netns(router)
        self._netns(home)
        r, h = ("ip", "netns", "exec", router), ("ip", "netns", "exec", home)
        inet = ("ip", "netns", "exec", self.inet)
        wan, lan = f"198.18.0.{10 + i}", f"10.0.{i}.2"
        _run(*inet, "ip", "link", "add", f"wan{i}", "type", "veth", "peer", "name", "wan", "netns", router)
        _run(*inet, "ip", "link", "set", f"wan{i}", "master", "br0", "up")
        _run(*r, "ip", "addr", "add", f"{wan}/24", "dev", "wan")
        _run(*r, "ip", "link", "set", "wan", "up")
        _run(*r, "ip", "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", home)
        _run(*r, "ip", "addr", "add", f"10.0.{i}.1/24", "dev", "lan")
        _run(*r, "ip", "link", "set", "lan", "up")
        _run(*h, "ip", "addr", "add", f"{lan}/24", "dev", "eth0")
        _run(*h, "ip", "link", "set", "eth0", "up")
        _run(*h, "ip", "route", "add", "default", "via", f"10.0.{i}.1")
        _run(*r, "ip", "route", "add", "default", "via", INTERNET)  # the internet forwards nothing: it ends there
        _run(*r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ipt = (*r, "iptables", "-w")
        _run(*ipt, "-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
        _run(*ipt, "-A", "INPUT", "-i", "wan", "-j", "DROP")
        _run(*ipt, "-P", "FORWARD", "DROP")
        _run(*ipt, "-A", "FORWARD", "-o", "wan", "!", "-d", "198.18.0.0/24", "-j", "DROP")
        if kind == "no-udp":
            _run(*ipt, "-A", "FORWARD", "-p", "udp", "-j", "DROP")
        _run(*ipt, "-A", "FORWARD", "-i", "lan", "-o", "wan", "-j", "ACCEPT")
        _run(*ipt, "-A", "FORWARD", "-i", "wan", "-o", "lan", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
             "-j", "ACCEPT")  # fmt: skip
        masquerade = ["-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE"]
        _run(*ipt, *masquerade, *(["--random-fully"] if kind == "symmetric" else []))
        self.homes[user] = Home(home, router, kind, lan, wan)
        return self.homes[user]

    @contextlib.contextmanager
    def blocked(self, user: str, protocol: str, ports: tuple[int, ...]) -> Iterator[None]:
        """While inside: `user`'s router drops what the home sends to the internet over `protocol` (tcp, udp) to
        `ports`, as a stricter network would (no TURN, say). Connections made before are cut too."""
        rule = ["FORWARD", "-i", "lan", "-p", protocol, "-m", "multiport", "--dports", ",".join(map(str, ports))]
        ipt = ("ip", "netns", "exec", self.homes[user].router, "iptables", "-w")
        _run(*ipt, "-I", *rule, "-j", "DROP")
        try:
            yield
        finally:
            _run(*ipt, "-D", *rule, "-j", "DROP")

    def name_hosts(self, names: list[str]) -> None:
        """Host names that resolve to INTERNET for the programs started in the internet namespace from now on
        (`ip netns exec` mounts /etc/netns/<namespace>/hosts over /etc/hosts). Browsers are told with
        `--host-resolver-rules`."""
        hosts = "127.0.0.1 localhost\n" + "".join(f"{INTERNET} {name}\n" for name in names)
        (Path("/etc/netns") / self.inet / "hosts").write_text(hosts)

    def launcher(self, user: str, program: str, directory: Path) -> Path:
        """An executable that runs `program` with its arguments inside `user`'s home (Playwright's
        `executable_path`: its pipe to the browser survives `ip netns exec`)."""
        path = directory / f"{self.name}-{user}-{Path(program).name}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.homes[user].name} {shlex.quote(program)} "$@"\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path

    def in_internet(self, argv: list[str]) -> list[str]:
        """`argv` run in the internet namespace (where the services listen)."""
        return ["ip", "netns", "exec", self.inet, *argv]

    def close(self) -> None:
        for namespace in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
            resolv = Path("/etc/netns") / namespace
            (resolv / "resolv.conf").unlink(missing_ok=True)
            (resolv / "hosts").unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # another run's namespace may share the folder
                resolv.rmdir()
        subprocess.run(["ip", "link", "del", f"{self.name}-t"], capture_output=True)
        self._namespaces.clear()
        self.homes.clear()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    spki: str
    """Base64 SHA-256 of its public key: what Chromium is told to trust (`--ignore-certificate-errors-spki-list`)."""


def self_signed(directory: Path, address: str) -> Certificate:
    """A certificate for `address` (an IP address) signed by its own key: coturn's TLS listener's in the simulated
    internet, which browsers trust by its key as they would trust a public CA's certificate for a name."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert, key_path = directory / "turn-cert.pem", directory / "turn-key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Certificate(cert, key_path, base64.b64encode(hashlib.sha256(der).digest()).decode())


@dataclass
class InternetServices:
    """The services of the simulated internet, all on INTERNET: what a public deployment runs."""

    relay: Service
    tracker: Service
    turn: Service
    bridge: Service
    turn_certificate: Certificate

    def all(self) -> list[Service]:
        return [self.relay, self.tracker, self.turn, self.bridge]

    def browser_flags(self) -> list[str]:
        """What a home's Chromium needs beyond the usual flags: the Bridge's plain-http origins treated as secure
        (a service worker, WebCrypto) as HTTPS would be, real host candidates instead of mDNS names, and coturn's
        certificate trusted (Chromium checks a `turns:` server's certificate as it checks a web site's)."""
        origins = f"{self.bridge.url},{self.bridge.extra['media_url']}"
        return [
            f"--unsafely-treat-insecure-origin-as-secure={origins}",
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            f"--ignore-certificate-errors-spki-list={self.turn_certificate.spki}",
        ]


def start_services(
    internet: Internet,
    data_dir: Path,
    *,
    turn_secret: str,
    web_root: Path = WEB_ROOT,
    bridge_args: tuple[str, ...] = (),
) -> InternetServices:
    """The relay, the tracker, coturn (STUN and TURN on port 3478 over UDP and TCP, TURN over TLS on 443, the shared
    secret `turn_secret`) and a Bridge that offers them to browsers, in the internet namespace. The caller stops them
    (`stop_all(services.all())`)."""
    started: list[Service] = []
    try:
        started.append(start_relay(data_dir, free_port(), host=INTERNET, netns=internet.inet))
        started.append(start_tracker(data_dir, free_port(), host=INTERNET, netns=internet.inet))
        certificate = self_signed(data_dir / "turn", INTERNET)
        tls = (certificate.cert, certificate.key)
        turn = start_turn(
            data_dir, TURN_PORT, secret=turn_secret, host=INTERNET, tls=tls, tls_port=TURNS_PORT, netns=internet.inet
        )
        started.append(turn)
        secret_file = data_dir / "turn-secret"
        secret_file.write_text(turn_secret)
        secret_file.chmod(0o600)
        args = ["--stun", f"{INTERNET}:{TURN_PORT}"]
        # every way in: UDP where it passes, TCP and TLS (on the HTTPS port) where only TCP does
        for url in (
            f"turn:{INTERNET}:{TURN_PORT}?transport=udp",
            f"turn:{INTERNET}:{TURN_PORT}?transport=tcp",
            f"turns:{INTERNET}:{TURNS_PORT}?transport=tcp",
        ):
            args += ["--turn", url]
        args += ["--turn-secret-file", str(secret_file), *bridge_args]
        relay, tracker = started[0], started[1]
        started.append(
            start_bridge(
                data_dir,
                free_port(),
                host=INTERNET,
                relays=[relay.url],
                trackers=[tracker.url],
                web_root=web_root,
                extra_args=tuple(args),
                netns=internet.inet,
            )
        )
    except BaseException:
        stop_all(started)
        raise
    return InternetServices(relay, tracker, turn, started[3], certificate)
