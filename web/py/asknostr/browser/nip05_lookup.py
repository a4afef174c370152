"""Finding a person by `name@domain` (NIP-05): the fetch of the domain's nostr.json; asknostr.nip05 decides."""

from __future__ import annotations

from pyscript import window
from pyscript.ffi import to_js

from asknostr import nip05
from asknostr.browser.errors import error_text

TIMEOUT_MS = 5000


async def pubkey_of(text: str) -> str:
    """The public key (hex) `text` (name@domain) names; ValueError in the app's words when it names none."""
    identifier = nip05.parse_identifier(text)
    options = {"redirect": "error", "credentials": "omit", "signal": window.AbortSignal.timeout(TIMEOUT_MS)}
    try:
        response = await window.fetch(identifier.url, to_js(options, dict_converter=window.Object.fromEntries))
    except Exception as exc:  # offline, refused, no CORS header, a redirect, the timeout
        raise ValueError(f"could not ask {identifier.domain} who {identifier} is ({error_text(exc)})") from None
    if not response.ok:
        raise ValueError(f"{identifier.domain} answered {int(response.status)} for {identifier}")
    return nip05.pubkey_in(str(await response.text()), identifier)
