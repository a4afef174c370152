"""Upload one file to one media server (Blossom BUD-02, or NIP-96), with progress; the answer is checked in the
core (asknostr.blossom, asknostr.nip96) against the file's sha256. A Blossom server that announces resumable
uploads gets large files as one (resumable_uploads.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pyscript import window
from pyscript.ffi import to_js

from asknostr import blossom, nip96, nip98
from asknostr.blossom import Uploaded, UploadRejected
from asknostr.browser import resumable_uploads
from asknostr.browser.signer import Signer
from asknostr.browser.upload_transport import SignerRefused, json_or_none, refusal, send, sign
from asknostr.media_servers import NIP96, MediaServer

__all__ = ["SignerRefused", "upload"]

INFO_TIMEOUT_MS = 10_000


async def upload(
    server: MediaServer,
    file: Any,
    sha256: str,
    signer: Signer,
    progress: Callable[[int], None],
    *,
    info_hash: str | None = None,
) -> Uploaded:
    """Upload `file` to `server`; UploadRejected (or a JS error: network, stall) when it did not take it.
    `info_hash` names the copy of `file` kept for seeding, from which a reload resumes the upload (by default the
    one this page kept for the same File)."""
    if server.protocol == NIP96:
        return await _upload_nip96(server, file, sha256, signer, progress)
    done = await resumable_uploads.try_upload(server.url, file, sha256, signer, progress, info_hash)
    if done is not None:
        return done
    return await _plain_put(server, file, sha256, signer, progress)


async def _plain_put(
    server: MediaServer, file: Any, sha256: str, signer: Signer, progress: Callable[[int], None]
) -> Uploaded:
    auth = await sign(signer, blossom.upload_auth_template(sha256, int(file.size), int(time.time())))
    headers = {"Authorization": nip98.authorization(auth), "X-SHA-256": sha256}
    if str(file.type):
        headers["Content-Type"] = str(file.type)
    answer = await send("PUT", blossom.upload_url(server.url), file, headers, progress)
    if not 200 <= int(answer.status) < 300:
        raise refusal(answer)
    return blossom.parse_descriptor(json_or_none(str(answer.body)), sha256)


async def _upload_nip96(
    server: MediaServer, file: Any, sha256: str, signer: Signer, progress: Callable[[int], None]
) -> Uploaded:
    options = to_js({"signal": window.AbortSignal.timeout(INFO_TIMEOUT_MS)}, dict_converter=window.Object.fromEntries)
    response = await window.fetch(nip96.info_url(server.url), options)
    if not response.ok:
        raise UploadRejected(f"no NIP-96 service there (HTTP {int(response.status)})")
    api = nip96.api_url(json_or_none(str(await response.text())), server.url)
    auth = await sign(signer, nip98.http_auth_template(api, "POST", None, int(time.time())))
    form = window.FormData.new()
    form.append("file", file)
    form.append("size", str(int(file.size)))
    form.append("content_type", str(file.type))
    form.append("no_transform", "true")
    answer = await send("POST", api, form, {"Authorization": nip98.authorization(auth)}, progress)
    if not 200 <= int(answer.status) < 300:
        raise refusal(answer)
    return nip96.parse_upload_answer(json_or_none(str(answer.body)), sha256)
