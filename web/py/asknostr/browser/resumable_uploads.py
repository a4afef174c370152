"""Resumable uploads (the IETF draft the Bridge speaks, bridge/resumable.py), on the browser side: a Blossom server
that announces them (OPTIONS /upload, asked once per server and page) gets files over
asknostr.resumable_upload.MIN_RESUMABLE in 8 MiB slices of the File (never the whole file in memory), each from
the server's offset; asknostr.resumable_upload decides each request. The session is kept in IndexedDB, beside the
file kept for seeding (asknostr.browser.torrents), so that `resume_all` finishes it after a reload.

A reload loses the post that waited for the upload (the composer publishes once every file is stored, and its
form, text and poster are gone with the page): `resume_all` finishes the upload and says so, and that the post
must be sent again; sending it again uploads nothing (`try_upload`: the blob is already on that server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from pyscript import window

from asknostr import blossom, nip98
from asknostr import resumable_upload as ru
from asknostr.blossom import Uploaded, UploadRejected
from asknostr.browser import dom, storage, torrents
from asknostr.browser.errors import error_text
from asknostr.browser.signer import Signer
from asknostr.browser.upload_transport import SignerRefused, json_or_none, send, sign

SESSIONS_KEY = "upload-sessions"
"""JSON {session key: Session} of the resumable uploads under way (asknostr.resumable_upload.Session)."""
FINISHED_KEY = "uploads-finished"
"""JSON {session key: {url, size, type}}: uploads finished after a reload, whose post must be sent again."""
RESUMABLE_AUTH_LIFETIME = 3600
AUTH_MARGIN = 60
_support_cache: dict[str, ru.Support] = {}
_running: dict[str, asyncio.Future[Uploaded | None]] = {}
"""The resumable uploads under way in this page, by session key (`_run`)."""
_sessions_lock = asyncio.Lock()
uploaded_bytes = [0]
"""The bytes this page put into resumable PATCH bodies (for tests and devtools: what a resume cost)."""


async def _support(server: str) -> ru.Support:
    """Whether `server` takes resumable uploads (OPTIONS /upload), asked once a page: a server that does not answer
    gets a plain PUT."""
    if server not in _support_cache:
        try:
            answer = await send("OPTIONS", blossom.upload_url(server), None, {}, lambda _sent: None)
            support = ru.parse_options(int(answer.status), ru.parse_headers(str(answer.headers)))
        except Exception as exc:
            window.console.warn(f"{server}: no answer to OPTIONS /upload ({error_text(exc)}): plain uploads")
            support = ru.Support(False)
        _support_cache[server] = support
    return _support_cache[server]


async def _sessions() -> dict[str, Any]:
    stored = await storage.get_json(SESSIONS_KEY)
    return stored if isinstance(stored, dict) else {}


async def _keep_session(session: ru.Session) -> None:
    async with _sessions_lock:
        sessions = await _sessions()
        sessions[session.key] = session.to_json()
        await storage.set_json(SESSIONS_KEY, sessions)


async def _drop_session(key: str) -> None:
    async with _sessions_lock:
        sessions = await _sessions()
        if sessions.pop(key, None) is not None:
            await storage.set_json(SESSIONS_KEY, sessions)


async def _finished(key: str) -> Uploaded | None:
    """An upload finished after a reload, its blob still on the server: sending the post again re-uses it."""
    records = await storage.get_json(FINISHED_KEY)
    record = records.get(key) if isinstance(records, dict) else None
    if not isinstance(record, dict):
        return None
    url = str(record.get("url", ""))
    try:
        there = 200 <= int((await send("HEAD", url, None, {}, lambda _sent: None)).status) < 300
    except Exception:
        there = False
    if not there:
        await _forget_finished(key)
        return None
    return Uploaded(url=url, sha256=key.split()[-1], size=int(record.get("size", 0)), mime=str(record.get("type", "")))


async def _forget_finished(key: str) -> None:
    async with _sessions_lock:
        records = await storage.get_json(FINISHED_KEY)
        if isinstance(records, dict) and records.pop(key, None) is not None:
            await storage.set_json(FINISHED_KEY, records)


async def _remember_finished(key: str, uploaded: Uploaded) -> None:
    async with _sessions_lock:
        records = await storage.get_json(FINISHED_KEY)
        records = records if isinstance(records, dict) else {}
        records[key] = {"url": uploaded.url, "size": uploaded.size, "type": uploaded.mime}
        await storage.set_json(FINISHED_KEY, records)


class _Auth:
    """The kind 24242 upload authorization of one blob, signed once and reused until shortly before it expires (the
    Bridge takes the creation's event for every request of the upload)."""

    def __init__(self, signer: Signer, sha256: str, size: int) -> None:
        self.signer, self.sha256, self.size = signer, sha256, size
        self.header, self.expires = "", 0

    async def value(self) -> str:
        now = int(time.time())
        if now + AUTH_MARGIN >= self.expires:
            template = blossom.upload_auth_template(self.sha256, self.size, now, lifetime=RESUMABLE_AUTH_LIFETIME)
            self.header = nip98.authorization(await sign(self.signer, template))
            self.expires = now + RESUMABLE_AUTH_LIFETIME
        return self.header


def _answer(raw: Any) -> ru.Answer:
    headers = ru.parse_headers(str(raw.headers))
    if str(raw.reason):
        headers["x-reason"] = str(raw.reason)
    return ru.Answer(int(raw.status), headers, str(raw.body))


async def try_upload(
    server: str,
    file: Any,
    sha256: str,
    signer: Signer,
    progress: Callable[[int], None],
    info_hash: str | None = None,
) -> Uploaded | None:
    """`file` on `server` by a resumable upload, or None when the caller does a plain PUT: the file is not over
    MIN_RESUMABLE, the server does not announce resumable uploads, or the upload fell back before any byte went.
    The upload of the same file to the same server under way in this page (resumed at start, or another post of the
    same file) is awaited rather than started again, and one finished after a reload is re-used. `info_hash` names
    the copy of `file` kept for seeding, from which a reload resumes (by default the one this page kept for it)."""
    size = int(file.size)
    if size <= ru.MIN_RESUMABLE:
        return None
    key = ru.session_key(server, sha256)
    if key in _running:
        same = await asyncio.shield(_running[key])
        if same is not None:
            return same
    earlier = await _finished(key)
    if earlier is not None:
        return earlier
    if not ru.wants_resumable(await _support(server), size):
        return None
    kept = torrents.kept_info_hash(file) if info_hash is None else info_hash
    return await _run(key, _upload(server, file, sha256, signer, progress, None, kept))


async def _run(key: str, upload: Coroutine[Any, Any, Uploaded | None]) -> Uploaded | None:
    """`upload` (of `_upload`), as the one under way for `key` while it runs: what `try_upload` of the same file and
    server awaits (shielded: a caller cancelled does not cancel it)."""
    task = asyncio.ensure_future(upload)
    _running[key] = task
    try:
        return await asyncio.shield(task)
    finally:
        _running.pop(key, None)


async def _upload(
    server: str,
    file: Any,
    sha256: str,
    signer: Signer,
    progress: Callable[[int], None],
    stored: ru.Session | None,
    info_hash: str,
) -> Uploaded | None:
    """One resumable upload (from `stored` after a reload); None when it fell back to a plain PUT before any byte
    went. UploadRejected when the server refused it; a ConnectionError when it stayed unreachable."""
    size = int(file.size)
    machine = ru.Upload(size, stored)
    auth = _Auth(signer, sha256, size)
    key = ru.session_key(server, sha256)
    step = machine.next_step()
    while True:
        if isinstance(step, ru.Done):
            await _drop_session(key)
            return blossom.parse_descriptor(json_or_none(step.body), sha256)
        if isinstance(step, ru.Stored):
            await _drop_session(key)
            url = f"{server.rstrip('/')}/{sha256}"
            return Uploaded(url=url, sha256=sha256, size=size, mime=str(file.type))
        if isinstance(step, ru.FallBack):
            window.console.warn(f"{server}: resumable upload not possible ({step.reason}): a plain upload")
            await _drop_session(key)
            return None
        if isinstance(step, ru.Failed):
            await _drop_session(key)
            if step.refused:
                raise UploadRejected(step.reason)
            raise ConnectionError(step.reason)
        answer, error = None, ""
        try:
            answer = await _resumable_request(server, file, sha256, machine, step, auth, progress)
        except SignerRefused:
            raise
        except Exception as exc:  # network error, stall, the server down: the offset is asked again
            error = error_text(exc)
        was_created = machine.session is None and isinstance(step, ru.Create)
        step = machine.answer(step, answer, error)
        if was_created and isinstance(step, ru.Patch) and answer is not None:
            max_age = ru.parse_limit(answer.headers.get("upload-limit")).get("max-age")
            now = int(time.time())
            session = ru.Session(
                server, answer.headers["location"], sha256, size, str(file.type), str(getattr(file, "name", "")),
                info_hash, now, now + max_age if max_age else 0,
            )  # fmt: skip
            machine.created(session)
            await _keep_session(session)
        progress(machine.offset)


async def _resumable_request(
    server: str,
    file: Any,
    sha256: str,
    machine: ru.Upload,
    step: ru.Step,
    auth: _Auth,
    progress: Callable[[int], None],
) -> ru.Answer:
    if isinstance(step, ru.Create):
        headers = {
            "Authorization": await auth.value(),
            "X-SHA-256": sha256,
            "Upload-Complete": "?0",
            "Upload-Length": str(machine.size),
        }
        if str(file.type):
            headers["Content-Type"] = str(file.type)
        return _answer(await send("PUT", blossom.upload_url(server), None, headers, lambda _sent: None))
    if isinstance(step, ru.Head):
        if step.delay:
            await asyncio.sleep(step.delay)
        headers = {"Authorization": await auth.value()}
        return _answer(await send("HEAD", machine.location(), None, headers, lambda _sent: None))
    assert isinstance(step, ru.Patch)
    headers = {
        "Authorization": await auth.value(),
        "Content-Type": ru.PARTIAL_UPLOAD,
        "Upload-Offset": str(step.start),
        "Upload-Complete": "?1" if step.last else "?0",
    }
    uploaded_bytes[0] += step.end - step.start
    body = file.slice(step.start, step.end)  # a slice of the File: read from disk as it is sent
    return _answer(await send("PATCH", machine.location(), body, headers, lambda sent: progress(step.start + sent)))


Say = Callable[[str, bool], None]


def say_in(element_id: str) -> Say:
    """What `resume_all` says, shown in the element `element_id` (an error in its error style)."""
    return lambda text, error: dom.set_text(element_id, text, error=error)


async def resume_all(signer: Signer, say: Say = lambda _text, _error: None) -> int:
    """Finish the uploads a reload (or a closed tab) interrupted, each from the server's offset, reading the copy
    of its file kept for seeding; how many were finished. What happens is said through `say`: the post that waited
    for an upload was not sent, so it must be sent again (its file is not uploaded again)."""
    finished = 0
    for key, value in (await _sessions()).items():
        session = ru.Session.from_json(value)
        if session is None or session.stale(time.time()):
            await _drop_session(key)  # damaged, or the server forgot it by now: a new post starts over
            continue
        file = await torrents.kept_file(session.info_hash) if session.info_hash else None
        if file is None or int(file.size) != session.size:
            await _drop_session(key)  # its file is no longer kept here: nothing to resume from
            continue
        name = session.name or session.sha256[:12]
        shown = [0]

        def progress(done: int, at: list[int] = shown, name: str = name, size: int = session.size) -> None:
            percent = done * 100 // size
            if percent != at[0]:
                at[0] = percent
                say(f"finishing the upload of {name} that a reload interrupted: {percent}%", False)

        say(f"finishing the upload of {name} that a reload interrupted…", False)
        try:
            uploaded = await _run(key, _upload(session.server, file, session.sha256, signer, progress, session, ""))
        except Exception as exc:
            say(f"the upload of {name} interrupted by a reload could not be finished: {error_text(exc)}", True)
            continue
        if uploaded is None:
            say(f"the upload of {name} interrupted by a reload could not be finished: post it again", True)
            continue
        await _remember_finished(key, uploaded)
        finished += 1
        say(
            f"{name} finished uploading after the reload, but its post was not sent: post it again"
            " (the file is not uploaded again)",
            False,
        )
    return finished
