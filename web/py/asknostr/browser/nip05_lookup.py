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
        if not response.ok:
            raise ValueError(f"{identifier.domain} answered {int(response.status)} for {identifier}")
        length = response.headers.get("content-length")
        if isinstance(length, str) and length.isdigit() and int(length) > nip05.MAX_ANSWER:
            raise ValueError(f"{identifier.domain} answered with more than a list of names")
        answer = str(await response.text())  # within the same time limit: a body that trickles in fails too
    except ValueError:
        raise
    except Exception as exc:  # offline, refused, no CORS header, a redirect, the timeout
        raise nip05.CouldNotAsk(f"could not ask {identifier.domain} who {identifier} is ({error_text(exc)})") from None
    return nip05.pubkey_in(answer, identifier)
