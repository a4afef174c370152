"""Posting with media: each file is hashed, seeded over WebTorrent at once, uploaded to the first media server
that takes it (the Bridge last), announced to the Bridge by a queued ping, and described in the post (imeta) and
in a NIP-94 event. Both composers (the feed's and the #asknostr community's) use it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pyscript import window
from pyscript.ffi import is_none
from pyscript.js_modules import file_probe

from asknostr import media_post, nip92, nip94, postable
from asknostr.blossom import UploadRejected
from asknostr.browser import dom, file_hashes, torrents, uploads
from asknostr.browser.bridge_pings import BridgePinger
from asknostr.browser.errors import error_text
from asknostr.browser.forms import Forms
from asknostr.browser.signer import Signer
from asknostr.browser.uploads import SignerRefused
from asknostr.media_servers import MediaServer
from asknostr.nip01 import Event
from asknostr.ping_queue import Ping
from asknostr.upload_progress import POSTER, SEEDING, FileProgress

Publish = Callable[[dict[str, object]], Awaitable[tuple[Event, str]]]
POSTER_WAIT = 15.0  # seconds a post waits for its video's poster to be stored, on all servers together


class Composer:
    def __init__(
        self,
        prefix: str,
        *,
        community: bool,
        signer: Signer,
        pinger: BridgePinger,
        providers: Callable[[], list[MediaServer]],
        trackers: Callable[[], list[str]],
        bridge_url: str,
        publish: Publish,
        max_file_bytes: int,
        seeded: Callable[[str, str], None] = lambda _info_hash, _creator: None,
    ) -> None:
        self.prefix, self.community = prefix, community
        self.signer, self.pinger = signer, pinger
        self.providers, self.trackers, self.bridge_url = providers, trackers, bridge_url
        self.publish = publish
        self.max_file_bytes = max_file_bytes
        self.seeded = seeded  # told of each file this browser seeds for a post (infoHash, creator)
        self.progress: list[FileProgress] = []
        self.busy = False

    def _id(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def begin(self) -> bool:
        """A post starts: its form is disabled until `end` (a second press makes no second note), and what the
        last post left (its files' lines) is cleared. False when a post is under way already."""
        if self.busy:
            return False
        self.busy = True
        self._fieldset().disabled = True
        self.progress = []
        self._render()
        return True

    def end(self) -> None:
        self.busy = False
        self._fieldset().disabled = False

    def _fieldset(self) -> Any:
        return dom.by_id(self._id("composer")).querySelector("fieldset")

    def _render(self) -> None:
        container = dom.by_id(self._id("composer-progress"))
        container.replaceChildren()
        for item in self.progress:
            node = dom.el("li", f"upload {item.step}", item.line(), data_step=item.step)
            container.append(node)

    def _update(self, index: int, progress: FileProgress) -> None:
        self.progress[index] = progress
        self._render()

    async def share_file(self, index: int, file: Any) -> tuple[nip92.Media, Ping]:
        """Hash, seed, upload (with fallback); the file's attachment, and the Bridge ping to send once posted."""
        name = str(file.name) or f"file-{index}"
        self._update(index, FileProgress(name, int(file.size)))

        def on_hashed(done: int, at: int = index) -> None:
            self._update(at, self.progress[at].sent_bytes(done))

        sha256 = await file_hashes.sha256(file, on_hashed)
        if str(file.type).startswith("video/"):
            self._update(index, FileProgress(name, int(file.size), step=POSTER))
        preview = await file_probe.preview(file, name)  # never fails: what the browser cannot make is ""/null
        poster = None if is_none(preview.poster) else preview.poster
        self._update(index, FileProgress(name, int(file.size), step=SEEDING))
        seeded = await torrents.seed(
            file, name, self.trackers(), creator=self.signer.pubkey
        )  # the magnet exists before the upload ends
        self.seeded(seeded.info_hash, self.signer.pubkey)
        progress = self.progress[index]
        servers = self.providers()
        for at, server in enumerate(servers):
            progress = progress.uploading(server.label)
            self._update(index, progress)

            def on_progress(sent: int, at: int = index) -> None:
                self._update(at, self.progress[at].sent_bytes(sent))

            try:
                uploaded = await uploads.upload(
                    server, file, sha256, self.signer, on_progress, info_hash=seeded.info_hash
                )
            except SignerRefused:
                self._update(index, self.progress[index].given_up())
                raise
            except UploadRejected as exc:
                progress = self.progress[index].failed_on(server.label, str(exc))
                continue
            except Exception as exc:  # network error, stall, CORS: a JS error
                progress = self.progress[index].failed_on(server.label, error_text(exc))
                continue
            self._update(index, progress.uploaded())
            ping = Ping(self.bridge_url, seeded.info_hash, uploaded.url, seeded.magnet, seeded.torrent)
            media = nip92.Media(
                url=uploaded.url,
                mime=str(file.type) or uploaded.mime,
                sha256=sha256,
                dim=str(preview.dim),
                blurhash=str(preview.blurhash),
                image=await self._poster_url(poster, servers[at:]),
                size=int(file.size),
                infohash=seeded.info_hash,
                magnet=seeded.magnet,
            )
            return media, ping
        self._update(index, progress.given_up())
        raise ValueError(f"{name}: no media server took it — nothing was posted")

    async def _poster_url(self, poster: Any, servers: list[MediaServer]) -> str:
        """The poster's URL, or "" (none made, or none stored within POSTER_WAIT: the post goes out without)."""
        if poster is None:
            return ""
        try:
            return await asyncio.wait_for(self._upload_poster(poster, servers), POSTER_WAIT)
        except TimeoutError:
            window.console.warn(f"poster not stored within {POSTER_WAIT:.0f} s: posted without it")
            return ""

    async def _upload_poster(self, poster: Any, servers: list[MediaServer]) -> str:
        """The poster's URL on the first server that takes it, starting with the one that took its video (those
        before refused the video already); "" when none does: the post goes out without it."""
        sha256 = str(await file_probe.sha256(poster))
        for server in servers:
            try:
                return (await uploads.upload(server, poster, sha256, self.signer, lambda _sent: None)).url
            except SignerRefused:
                return ""  # the user said no to signing: not asked again for each server
            except Exception as exc:  # refused, network error, stall: the next server, as for the file
                window.console.warn(f"poster not stored on {server.label}: {error_text(exc)}")
        return ""

    async def post(self, text: str, files: list[Any], extra_media: list[nip92.Media]) -> str:
        refused = postable.refusal([(str(f.name), int(f.size)) for f in files], self.max_file_bytes)
        if refused:
            raise ValueError(refused)
        self.progress = [FileProgress(str(f.name), int(f.size)) for f in files]
        self._render()
        tasks = [asyncio.ensure_future(self.share_file(i, f)) for i, f in enumerate(files)]
        try:
            shared = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # one file failed: the post is not made, so the others stop too
                task.cancel()
            raise
        media = [item for item, _ in shared]
        now = int(time.time())
        file_events = []
        for item in media:
            event, _ = await self.publish(nip94.file_metadata_template(item, text.strip() or item.url, now))
            file_events.append(event["id"])
        template = media_post.note_template(
            text, [*media, *extra_media], now, community=self.community, file_events=file_events
        )
        _, report = await self.publish(template)
        for _, ping in shared:  # queued: sent in the background, retried while the Bridge is away
            await self.pinger.add(ping)
        return report

    async def on_submit(self, _event: Any, form: dict[str, str]) -> None:
        """The Post button: the text, the picked files and a media URL as submitted; the form is disabled until
        the post is made or refused, and the outcome is said under it."""
        if not self.begin():
            return  # a second press while the first post is under way
        files_input = dom.by_id(self._id("composer-files"))
        files = list(files_input.files)

        async def post() -> str:
            content, media_url = form[self._id("composer-text")].strip(), form[self._id("composer-media")].strip()
            extra: list[nip92.Media] = []
            if media_url:
                extra = nip92.parse_imeta([["imeta", f"url {media_url}"]])
                if not extra:
                    raise ValueError("the media URL must start with https:// or http://")
            if not content and not files and not extra:
                raise ValueError("write something first")
            report = await self.post(content, files, extra)
            dom.clear_if_unchanged(form, self._id("composer-text"), self._id("composer-media"))
            files_input.value = ""
            return report

        try:
            await Forms.guarded(self._id("composer-result"), post)
        finally:
            self.end()
