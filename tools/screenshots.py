"""Screenshots of the app as people see it: the feed, a profile and the composer, on a desktop and a 390x844 phone.

    tools/netns.sh .venv/bin/python tools/screenshots.py        (writes docs/screenshots/*.png)

The real local stack (relay, tracker, Bridge) and real Chromium: Dave has a profile with a picture and posts a
picture; Alice posts a short video (recorded by Chromium, so its poster is made by the app); Bob follows both.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import FilePayload, sync_playwright  # noqa: E402

from asknostr import nip19  # noqa: E402
from devstack.services import free_port, start_bridge, start_relay, start_tracker, stop_all  # noqa: E402
from tests.e2e.clips import record_clip  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, AppUser, chromium_path, relay_publish  # noqa: E402
from tests.unit.nostr_keys import keypair, sign_event  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 860}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        **{"is_mobile": True, "has_touch": True, "device_scale_factor": 2},
    },
}

# A sunset over the sea with a bird crossing it: what the 3 s clip Alice posts shows (tests.e2e.clips).
SUNSET = """const t = elapsed / ms
    const sky = c.createLinearGradient(0, 0, 0, height)
    sky.addColorStop(0, '#2b1055'); sky.addColorStop(0.55, '#d53369'); sky.addColorStop(0.56, '#1f4e79')
    sky.addColorStop(1, '#0b1d3a')
    c.fillStyle = sky
    c.fillRect(0, 0, width, height)
    c.fillStyle = '#ffcc66'
    c.beginPath(); c.arc(width * 0.5, height * (0.5 + 0.1 * t), height * 0.16, Math.PI, 0); c.fill()
    c.strokeStyle = '#111'; c.lineWidth = 4
    const x = width * (0.15 + 0.7 * t), y = height * 0.3
    c.beginPath(); c.moveTo(x - 30, y - 10); c.quadraticCurveTo(x - 15, y - 25, x, y)
    c.quadraticCurveTo(x + 15, y - 25, x + 30, y - 10); c.stroke()"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="screens-"))
    services = []
    try:
        relay = start_relay(data_dir, free_port())
        services.append(relay)
        tracker = start_tracker(data_dir, free_port())
        services.append(tracker)
        bridge = start_bridge(data_dir, free_port(), relays=[relay.url], trackers=[tracker.url],
                              extra_args=("--fetch-allow-host", "127.0.0.1"))  # fmt: skip
        services.append(bridge)
        app_url = bridge.url + "/"
        picture = f"{bridge.url}/static/icons/icon-512.png"
        secret, dave = keypair(4242)
        now = int(time.time())
        about = "I photograph birds on the coast. Prints on request."
        profile = {"name": "Dave", "picture": picture, "about": about}
        image = ["imeta", f"url {picture}", "m image/png", "dim 512x512"]
        for template in (
            {"kind": 0, "created_at": now - 60, "tags": [], "content": json.dumps(profile)},
            {"kind": 1, "created_at": now - 50, "tags": [image], "content": "Our logo, as a bird would see it"},
        ):
            assert relay_publish(relay.url, sign_event(template, secret))[0]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            alice = AppUser.open(browser, app_url, **SIZES["desktop"])
            alice.set_name("Alice")
            clip = record_clip(alice.page, SUNSET, 640, 360, 3000)
            alice.show("feed")
            alice.page.set_input_files(
                "#composer-files", files=[FilePayload(name="sunset.webm", mimeType="video/webm", buffer=clip)]
            )
            alice.submit("composer-result", {"#composer-text": "Sunset from the pier tonight"}, "#post-button",
                         "published")  # fmt: skip
            for size, options in SIZES.items():
                bob = AppUser.open(browser, app_url, **options)
                bob.set_name(f"Bob ({size})")
                for who in (alice.npub, nip19.npub_encode(dave)):
                    bob.follow(who)
                bob.show("feed")
                bob.page.locator("#feed .post video[poster]").first.wait_for(timeout=30_000)
                bob.page.locator("#feed .post .author", has_text="Dave").first.wait_for(timeout=30_000)
                bob.page.wait_for_timeout(1500)  # posters and pictures decoded
                bob.page.screenshot(path=str(OUT / f"feed-{size}.png"))
                bob.page.locator("#feed .post .who", has_text="Dave").first.click()
                bob.page.locator("#view-profile.active").wait_for()
                bob.page.locator("#person-posts .post").first.wait_for(timeout=20_000)
                bob.page.wait_for_timeout(1000)
                bob.page.screenshot(path=str(OUT / f"profile-{size}.png"))
                bob.page.click("#person-back")
                bob.page.fill("#composer-text", "Anyone know what bird this is?")
                bob.page.set_input_files(
                    "#composer-files", files=[FilePayload(name="bird.webm", mimeType="video/webm", buffer=clip)]
                )
                cdp = bob.context.new_cdp_session(bob.page)  # a slow upload, to show the post under way
                cdp.send("Network.enable")
                slow = {"offline": False, "latency": 50, "downloadThroughput": -1, "uploadThroughput": 60_000}
                cdp.send("Network.emulateNetworkConditions", slow)
                bob.page.click("#post-button")
                bob.page.locator("#composer-progress li[data-step=uploading]").first.wait_for(timeout=30_000)
                bob.page.wait_for_timeout(1500)
                bob.page.screenshot(path=str(OUT / f"composer-{size}.png"))
                cdp.send("Network.emulateNetworkConditions", {**slow, "uploadThroughput": -1})
                bob.page.locator("#composer-result", has_text="published").wait_for(timeout=60_000)
                bob.close()
            alice.close()
            browser.close()
        for path in sorted(OUT.glob("*.png")):
            print(path.relative_to(ROOT), path.stat().st_size, "bytes")
    finally:
        stop_all(services)


if __name__ == "__main__":
    main()
