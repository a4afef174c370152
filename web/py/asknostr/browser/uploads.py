"""Upload one file to one media server (Blossom BUD-02, or NIP-96), with progress; the answer is checked in the
core (asknostr.blossom, asknostr.nip96) against the file's sha256."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pyscript import window
from pyscript.ffi import create_proxy, to_js
from pyscript.js_modules import http_upload

from asknostr import blossom, nip01, nip96, nip98
from asknostr.blossom import Uploaded, UploadRejected
from asknostr.browser.errors import error_text
from asknostr.browser.signer import Signer
from asknostr.media_servers import NIP96, MediaServer

STALL_MS = 30_000


class SignerRefused(Exception):
    """The signer (a NIP-07 extension, usually) did not sign: the user said no; no other server will do."""


async def _sign(signer: Signer, template: dict[str, object]) -> nip01.Event:
    try:
        return await signer.sign(template)
    except Exception as exc:
        raise SignerRefused(f"your key did not sign the upload ({error_text(exc)})") from None


INFO_TIMEOUT_MS = 10_000


def _headers(values: dict[str, str]) -> Any:
    return to_js(values, dict_converter=window.Object.fromEntries)


async def _send(method: str, url: str, body: Any, headers: dict[str, str], progress: Callable[[int], None]) -> Any:
    proxy = create_proxy(lambda sent: progress(int(sent)))
    try:
        return await http_upload.send(method, url, body, _headers(headers), STALL_MS, proxy)
    finally:
        proxy.destroy()


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _refusal(answer: Any) -> UploadRejected:
    reason = str(answer.reason) or str(answer.body)[:120].strip() or "no reason given"
    return UploadRejected(f"HTTP {int(answer.status)}: {reason}")


async def upload(
    server: MediaServer, file: Any, sha256: str, signer: Signer, progress: Callable[[int], None]
) -> Uploaded:
    """Upload `file` to `server`; UploadRejected (or a JS error: network, stall) when it did not take it."""
    if server.protocol == NIP96:
        return await _upload_nip96(server, file, sha256, signer, progress)
    auth = await _sign(signer, blossom.upload_auth_template(sha256, int(file.size), int(time.time())))
    headers = {"Authorization": nip98.authorization(auth), "X-SHA-256": sha256}
    if str(file.type):
        headers["Content-Type"] = str(file.type)
    answer = await _send("PUT", blossom.upload_url(server.url), file, headers, progress)
    if not 200 <= int(answer.status) < 300:
        raise _refusal(answer)
    return blossom.parse_descriptor(_json(str(answer.body)), sha256)


async def _upload_nip96(
    server: MediaServer, file: Any, sha256: str, signer: Signer, progress: Callable[[int], None]
) -> Uploaded:
    options = to_js({"signal": window.AbortSignal.timeout(INFO_TIMEOUT_MS)}, dict_converter=window.Object.fromEntries)
    response = await window.fetch(nip96.info_url(server.url), options)
    if not response.ok:
        raise UploadRejected(f"no NIP-96 service there (HTTP {int(response.status)})")
    api = nip96.api_url(_json(str(await response.text())), server.url)
    auth = await _sign(signer, nip98.http_auth_template(api, "POST", None, int(time.time())))
    form = window.FormData.new()
    form.append("file", file)
    form.append("size", str(int(file.size)))
    form.append("content_type", str(file.type))
    form.append("no_transform", "true")
    answer = await _send("POST", api, form, {"Authorization": nip98.authorization(auth)}, progress)
    if not 200 <= int(answer.status) < 300:
        raise _refusal(answer)
    return nip96.parse_upload_answer(_json(str(answer.body)), sha256)
