"""A public deployment as the README's "Run a public Bridge" describes it, on the simulated internet: the Bridge,
its blobs' origin, the relay and the tracker behind Caddy (TLS, under names), coturn for STUN and TURN. The PWA is
served over HTTPS under its name, installable, its service worker in control, and the swarm works across home and
symmetric NATs through it."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Browser, Playwright

from devstack.internet import INTERNET, Internet
from devstack.services import (
    Service,
    free_port,
    start_bridge,
    start_caddy,
    start_relay,
    start_tracker,
    start_turn,
    stop_all,
)
from tests.e2e.harness import AppUser, Stack, eventually, home_browsers
from tests.e2e.test_composer import bridge_state, post_files, published
from tests.e2e.test_internet import KEEP_PEER_CONNECTIONS, swarm_across_nats
from tests.e2e.test_viewer import wav

DOMAIN = "swarm.test"
NAMES = {"app": DOMAIN, "media": f"media.{DOMAIN}", "relay": f"relay.{DOMAIN}", "tracker": f"tracker.{DOMAIN}"}
HOMES = {"alice": "cone", "bob": "cone", "carol": "symmetric"}
TURN_SECRET = "public-deployment-turn-secret"


@dataclass
class Deployment:
    internet: Internet
    stack: Stack
    turn: Service
    browsers: dict[str, Browser]

    def bridge_announced(self, info_hash: str, timeout: float = 30) -> bool:
        """Whether a tracker accepted the Bridge's announce of `info_hash` (over wss, by name, through Caddy)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{self.stack.bridge.url}/api/torrents/{info_hash}") as response:
                if json.loads(response.read())["announced"]:
                    return True
            time.sleep(0.5)
        return False

    def user(self, name: str) -> AppUser:
        context = self.browsers[name].new_context()
        context.add_init_script(KEEP_PEER_CONNECTIONS)
        return AppUser.in_context(context, f"https://{DOMAIN}/")


def spki_hashes(data_dir: Path, timeout: float = 20) -> list[str]:
    """Base64 SHA-256 of the public keys of Caddy's local CA (root and intermediate): what Chromium is told to trust
    (`--ignore-certificate-errors-spki-list`), as a browser trusts a public CA."""
    authority = data_dir / "caddy" / "pki" / "authorities" / "local"
    deadline = time.monotonic() + timeout
    while not (authority / "intermediate.crt").exists():
        assert time.monotonic() < deadline, "Caddy made no local CA"
        time.sleep(0.2)
    hashes = []
    for name in ("root.crt", "intermediate.crt"):
        key = x509.load_pem_x509_certificate((authority / name).read_bytes()).public_key()
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        hashes.append(base64.b64encode(hashlib.sha256(der).digest()).decode())
    return hashes


@pytest.fixture(scope="module")
def deployment(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    data_dir = tmp_path_factory.mktemp("deployment")
    services: list[Service] = []
    with Internet() as internet:
        internet.add_homes(HOMES)
        internet.name_hosts(list(NAMES.values()))
        try:
            ports = {role: free_port() for role in NAMES}
            sites = {NAMES[role]: f"{INTERNET}:{port}" for role, port in ports.items()}
            services.append(start_caddy(data_dir, sites, host=INTERNET, netns=internet.inet))
            trust = spki_hashes(data_dir)
            netns = internet.inet
            services.append(start_relay(data_dir, ports["relay"], host=INTERNET, netns=netns))
            services.append(start_tracker(data_dir, ports["tracker"], host=INTERNET, netns=netns))
            services.append(start_turn(data_dir, 3478, secret=TURN_SECRET, host=INTERNET, netns=netns))
            secret_file = data_dir / "turn-secret"
            secret_file.write_text(TURN_SECRET)
            args = ["--public-url", f"https://{NAMES['app']}", "--media-url", f"https://{NAMES['media']}"]
            args += ["--stun", f"{INTERNET}:3478", "--turn", f"turn:{INTERNET}:3478?transport=udp"]
            args += ["--turn-secret-file", str(secret_file), "--heartbeat-interval", "2", "--heartbeats-per-key", "120"]
            args += ["--trusted-proxy", INTERNET]  # Caddy, on the same host
            root = data_dir / "caddy" / "pki" / "authorities" / "local" / "root.crt"
            bridge = start_bridge(
                data_dir,
                ports["app"],
                media_port=ports["media"],
                host=INTERNET,
                relays=[f"wss://{NAMES['relay']}"],
                trackers=[f"wss://{NAMES['tracker']}"],
                extra_args=tuple(args),
                netns=netns,
                env={"SSL_CERT_FILE": str(root)},  # libtorrent announces over wss: Caddy's CA, as the public one
            )
            services.append(bridge)
            stack = Stack(services[1], services[1], services[2], bridge)
            flags = [
                "--host-resolver-rules=" + ",".join(f"MAP {name} {INTERNET}" for name in NAMES.values()),
                "--ignore-certificate-errors-spki-list=" + ",".join(trust),
                "--disable-features=WebRtcHideLocalIpsWithMdns",
            ]
            with home_browsers(playwright, internet, data_dir, flags) as browsers:
                yield Deployment(internet, stack, services[3], browsers)
        finally:
            stop_all(services)


@pytest.mark.webrtc
@pytest.mark.slow
def test_the_pwa_is_served_over_https_under_its_name_and_installable(deployment: Deployment) -> None:
    alice = deployment.user("alice")
    page = alice.page
    assert page.url == f"https://{DOMAIN}/" and page.evaluate("window.isSecureContext")
    eventually(page, "navigator.serviceWorker.controller !== null", 30_000)
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.ok ? r.json() : null)"
    )
    assert manifest and manifest["display"] == "standalone" and manifest["icons"], manifest
    config = page.evaluate("fetch('/config.json').then((r) => r.json())")
    assert (config["bridge"], config["bridge_media"]) == (f"https://{NAMES['app']}", f"https://{NAMES['media']}")
    assert config["relays"] == [f"wss://{NAMES['relay']}"] and config["trackers"] == [f"wss://{NAMES['tracker']}"]
    assert config["turn"] is True
    eventually(page, "document.getElementById('status').textContent.startsWith('online')", 30_000)  # wss relay
    assert not alice.foreign


@pytest.mark.webrtc
@pytest.mark.slow
def test_the_swarm_across_nats_through_the_public_deployment(deployment: Deployment) -> None:
    users = [deployment.user(name) for name in HOMES]
    swarm_across_nats(deployment.stack, deployment.turn, *users)


@pytest.mark.webrtc
@pytest.mark.slow
def test_uploads_go_to_the_blobs_origin_by_name_and_the_bridge_announces_over_wss(deployment: Deployment) -> None:
    stack = deployment.stack
    alice = deployment.user("alice")
    post_files(alice, "over https", [("https.wav", "audio/wav", wav(5, tone=480))], community=True)
    (note,) = [e for e in published(stack, alice.pubkey) if e["kind"] == 1]
    meta = note["imeta"][0]
    assert meta["url"].startswith(f"https://{NAMES['media']}/")  # stored on the blobs' own origin, by name
    assert bridge_state(stack, meta["i"], user=alice, timeout=60) == "seeding"  # pinged at https://swarm.test
    # libtorrent announces to the tracker through Caddy (wss, by name, its certificate checked)
    assert deployment.bridge_announced(meta["i"]), stack.bridge.log_tail(20)
    with urllib.request.urlopen(f"{stack.bridge.url}/api/torrents/{meta['i']}") as response:
        assert json.loads(response.read())["trackers"] == [f"wss://{NAMES['tracker']}"]
