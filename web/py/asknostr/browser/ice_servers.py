"""The ICE servers WebTorrent uses: the deployment's STUN servers at once, then, when the Bridge offers TURN, a
credential asked for with a signed request and renewed before it expires (asknostr.ice decides when)."""

from __future__ import annotations

import asyncio
import time

from pyscript import document, window
from pyscript.ffi import create_proxy, is_none, to_js

from asknostr import ice
from asknostr.backoff import Backoff
from asknostr.browser import torrents
from asknostr.browser.background import Background
from asknostr.browser.errors import error_text
from asknostr.browser.signed_post import signed_post
from asknostr.browser.signer import Signer

FIRST_WAIT = 2.0
"""Seconds the start waits for the first credential: the torrents resumed at start offer with it."""
TICK = 60.0
"""The longest sleep: a timer frozen with a suspended laptop or a background tab resumes where it stopped, so the
wall clock is looked at again at least this often."""
PROBE_SECONDS = 3.0
"""How long one look at the network may gather candidates: a relay over TCP comes within a round trip or two."""


class IceServers:
    def __init__(self, signer: Signer, bridge_url: str, stun: list[dict[str, object]], turn: bool) -> None:
        self.signer, self.url, self.stun, self.turn = signer, bridge_url.rstrip("/") + "/api/turn", stun, turn
        self.background = Background("ICE servers")
        self._first = asyncio.Event()
        self.grants = 0
        torrents.configure(stun)

    async def start(self) -> None:
        """Ask for the first credential and keep renewing it; returns once the first is here (or after FIRST_WAIT)."""
        if not self.turn:
            return
        self.background.spawn(self._renew())
        try:
            await asyncio.wait_for(self._first.wait(), FIRST_WAIT)
        except TimeoutError:
            window.console.warn(f"no TURN credential within {FIRST_WAIT:.0f} s: STUN alone until it comes")

    async def _renew(self) -> None:
        backoff = Backoff(base=5, cap=300)
        while True:
            try:
                grant = await self._ask()
                torrents.configure(grant.servers)
                self._first.set()  # the start need not wait for the look at UDP below
                reached: set[str] = set()
                if await self._udp_blocked(grant.servers, reached):  # with each credential: networks change
                    torrents.configure(ice.without_udp(grant.servers, frozenset(reached)))
                    document.body.dataset.iceUdp = "blocked"  # for tests and devtools
                else:
                    document.body.dataset.iceUdp = "ok"
            except Exception as exc:  # the Bridge away, the signer refusing: what we have until the next try
                renew_at = time.time() + backoff.next_delay()
                document.body.dataset.turn = f"error: {error_text(exc)}"
                window.console.warn(
                    f"no TURN credential: {error_text(exc)}; next try in {renew_at - time.time():.0f} s"
                )
            else:
                backoff.reset()
                self.grants += 1
                document.body.dataset.turn = "ready"  # for tests and devtools
                document.body.dataset.turnGrants = str(self.grants)
                renew_at = time.time() + ice.renew_in(grant, time.time())
            self._first.set()
            while (left := renew_at - time.time()) > 0:  # noqa: ASYNC110  # the wall clock, not an event
                await asyncio.sleep(min(left, TICK))

    async def _ask(self) -> ice.IceGrant:
        answer = await signed_post(self.signer, self.url, {})
        if not answer.ok:
            raise ValueError(f"the Bridge answered {answer.status}: {answer.reason}")
        return ice.parse_grant((await answer.response.json()).to_py())

    async def _udp_blocked(self, servers: list[dict[str, object]], reached: set[str]) -> bool:
        """Whether this network drops UDP (asknostr.ice.udp_blocked), from the candidates one RTCPeerConnection
        gathers with `servers`; False when it cannot be told within PROBE_SECONDS. The TURN URLs that gave a relay
        candidate are added to `reached`."""
        seen: list[tuple[str, str]] = []
        decided = asyncio.Event()

        def on_candidate(event: object) -> None:
            candidate = event.candidate  # type: ignore[attr-defined]
            if is_none(candidate):  # gathering complete
                decided.set()
                return
            relay_protocol = getattr(candidate, "relayProtocol", None)  # (a relay candidate's, in Chromium)
            seen.append((str(candidate.type), "" if is_none(relay_protocol) else str(relay_protocol)))
            # the ICE server that gave it: Chromium names it on the candidate (`url`); the event's `url` (deprecated)
            # is null there, and without a name every TCP TURN URL would be kept, a dropped one stalling gathering
            url = getattr(candidate, "url", None)
            if is_none(url) or not url:
                url = getattr(event, "url", None)
            if str(candidate.type) == "relay" and not is_none(url) and url:
                reached.add(str(url))
            if ice.udp_blocked(seen) is False:
                decided.set()

        config = to_js({"iceServers": servers}, dict_converter=window.Object.fromEntries)
        pc = window.RTCPeerConnection.new(config)
        listener = create_proxy(on_candidate)
        try:
            pc.addEventListener("icecandidate", listener)
            pc.createDataChannel("probe")
            await pc.setLocalDescription(await pc.createOffer())
            await asyncio.wait_for(decided.wait(), PROBE_SECONDS)
        except TimeoutError:
            pass
        finally:
            pc.close()
            listener.destroy()
        return ice.udp_blocked(seen) is True
