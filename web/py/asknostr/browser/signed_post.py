"""The one signed POST to the Bridge (NIP-98): a JSON body, the Authorization header the user's signer makes for
it, a timeout. Used by the ping sender, the heartbeat and the TURN credentials."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pyscript import window
from pyscript.ffi import to_js

from asknostr import nip98
from asknostr.browser.signer import Signer


@dataclass(frozen=True)
class Answer:
    status: int
    ok: bool
    reason: str
    """The Bridge's `X-Reason` on a refusal ('' when none)."""
    response: Any
    """The fetch Response (for its JSON body)."""


async def signed_post(signer: Signer, url: str, payload: object, timeout_ms: int = 20_000) -> Answer:
    """POST `payload` as JSON to `url`, NIP-98 signed; raises on a network failure or a refused signature."""
    body = json.dumps(payload)
    auth = await signer.sign(nip98.http_auth_template(url, "POST", body.encode(), int(time.time())))
    headers = {"Authorization": nip98.authorization(auth), "Content-Type": "application/json"}
    options = {"method": "POST", "body": body, "headers": headers, "signal": window.AbortSignal.timeout(timeout_ms)}
    response = await window.fetch(url, to_js(options, dict_converter=window.Object.fromEntries))
    status = int(response.status)
    return Answer(status, bool(response.ok), str(response.headers.get("X-Reason") or ""), response)
