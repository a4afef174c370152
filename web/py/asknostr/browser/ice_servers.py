"""The ICE servers WebTorrent uses: the deployment's STUN servers at once, then, when the Bridge offers TURN, a
credential asked for with a signed request and renewed before it expires (asknostr.ice decides when)."""

from __future__ import annotations

import asyncio
import time

from pyscript import document, window

from asknostr import ice
from asknostr.backoff import Backoff
from asknostr.browser import torrents
from asknostr.browser.background import Background
from asknostr.browser.errors import error_text
from asknostr.browser.signed_post import signed_post
from asknostr.browser.signer import Signer


class IceServers:
    def __init__(self, signer: Signer, bridge_url: str, stun: list[dict[str, object]], turn: bool) -> None:
        self.signer, self.url, self.stun, self.turn = signer, bridge_url.rstrip("/") + "/api/turn", stun, turn
        self.background = Background("ICE servers")
        torrents.configure(stun)

    def start(self) -> None:
        if self.turn:
            self.background.spawn(self._renew())

    async def _renew(self) -> None:
        backoff = Backoff(base=5, cap=300)
        while True:
            try:
                grant = await self._ask()
            except Exception as exc:  # the Bridge away, the signer refusing: STUN alone until the next try
                wait = backoff.next_delay()
                document.body.dataset.turn = f"error: {error_text(exc)}"
                window.console.warn(f"no TURN credential: {error_text(exc)}; next try in {wait:.0f} s")
            else:
                backoff.reset()
                torrents.configure(grant.servers)
                document.body.dataset.turn = "ready"  # for tests and devtools
                wait = ice.renew_in(grant, time.time())
            await asyncio.sleep(wait)

    async def _ask(self) -> ice.IceGrant:
        answer = await signed_post(self.signer, self.url, {})
        if not answer.ok:
            raise ValueError(f"the Bridge answered {answer.status}: {answer.reason}")
        return ice.parse_grant((await answer.response.json()).to_py())
