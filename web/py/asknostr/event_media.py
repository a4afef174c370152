"""The media an event carries, whatever form it takes: `imeta` tags of a note (NIP-92), a kind 1063 file event
(NIP-94), or a bare `magnet:` link in a note's text. One place, for the feed, the viewer and the swarm."""

from __future__ import annotations

import re
from dataclasses import replace

from asknostr import magnet
from asknostr.nip01 import Event
from asknostr.nip92 import Media, parse_imeta
from asknostr.nip94 import KIND_FILE_METADATA, parse_file_metadata

_MAGNET = re.compile(r"magnet:\?[^\s<>\"']*xt=urn:btih:(?:[0-9a-fA-F]{40}|[A-Za-z2-7]{32})[^\s<>\"']*")


def _with_info_hash(media: Media) -> Media:
    if media.infohash or not media.magnet:
        return media
    return replace(media, infohash=magnet.info_hash(media.magnet))


def media_of(event: Event) -> list[Media]:
    """Every attachment of `event` (a kind 1 note or a kind 1063 file event), each with its infoHash when it has
    a magnet. Magnet links in a note's text that no imeta tag describes come as Media with an empty url."""
    if event.get("kind") == KIND_FILE_METADATA:
        found = parse_file_metadata(event)
        return [_with_info_hash(found)] if found else []
    if event.get("kind") != 1:
        return []
    media = [_with_info_hash(m) for m in parse_imeta(event.get("tags", []))]
    known = {m.infohash for m in media if m.infohash}
    for match in _MAGNET.finditer(str(event.get("content", ""))):
        info_hash = magnet.info_hash(match.group(0))
        if info_hash and info_hash not in known:
            known.add(info_hash)
            media.append(Media(url="", infohash=info_hash, magnet=match.group(0)))
    return media


def text_beside(content: str, shown: list[Media]) -> str:
    """A note's text as shown above its media: without the URLs and magnets of the attachments shown as media
    (clients that read no imeta tag see them in the text, which keeps them), and without the blank lines left."""
    links = {m.url for m in shown if m.url} | {m.magnet for m in shown if m.magnet}
    lines = []
    for line in content.splitlines():
        kept = " ".join(word for word in line.split(" ") if word.strip() not in links)
        if kept.strip() or not line.strip():
            lines.append(kept.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
