"""What every upload shares: signing its authorization (a refusal is SignerRefused: no other server will do), one
HTTP request with upload progress and a stall timeout (static/js/http_upload.js), and a server's refusal in the
app's words."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pyscript import window
from pyscript.ffi import create_proxy, to_js
from pyscript.js_modules import http_upload

from asknostr import nip01
from asknostr.blossom import UploadRejected
from asknostr.browser.errors import error_text
from asknostr.browser.signer import Signer

STALL_MS = 30_000


class SignerRefused(Exception):
    """The signer (a NIP-07 extension, usually) did not sign: the user said no; no other server will do."""


async def sign(signer: Signer, template: dict[str, object]) -> nip01.Event:
    try:
        return await signer.sign(template)
    except Exception as exc:
        raise SignerRefused(f"your key did not sign the upload ({error_text(exc)})") from None


def headers_of(values: dict[str, str]) -> Any:
    return to_js(values, dict_converter=window.Object.fromEntries)


async def send(method: str, url: str, body: Any, headers: dict[str, str], progress: Callable[[int], None]) -> Any:
    proxy = create_proxy(lambda sent: progress(int(sent)))
    try:
        return await http_upload.send(method, url, body, headers_of(headers), STALL_MS, proxy)
    finally:
        proxy.destroy()


def json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def refusal(answer: Any) -> UploadRejected:
    reason = str(answer.reason) or str(answer.body)[:120].strip() or "no reason given"
    return UploadRejected(f"HTTP {int(answer.status)}: {reason}")
