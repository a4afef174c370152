"""NIP-94 file metadata (kind 1063): one event per uploaded file, with its URL, type, hashes, size and torrent."""

from __future__ import annotations

from asknostr.nip01 import Event
from asknostr.nip92 import Media, is_http_url, parse_imeta

KIND_FILE_METADATA = 1063


def file_metadata_template(media: Media, description: str, created_at: int) -> dict[str, object]:
    """The unsigned kind 1063 event for an uploaded file (`ox` = `x`: the server stored it untransformed). A
    preview (a video's poster: small, the file's shape) is both NIP-94's `image` and its `thumb`, whichever a
    client reads."""
    if not media.sha256:
        raise ValueError("a file metadata event needs the file's sha256")
    tags = [["url", media.url], ["m", media.mime or "application/octet-stream"], ["x", media.sha256]]
    tags.append(["ox", media.sha256])
    if media.size is not None:
        tags.append(["size", str(media.size)])
    previews = (("image", media.image), ("thumb", media.image), ("blurhash", media.blurhash))
    for name, value in (
        ("dim", media.dim),
        *previews,
        ("magnet", media.magnet),
        ("i", media.infohash),
        ("alt", media.alt),
    ):
        if value:
            tags.append([name, value])
    tags += [["fallback", url] for url in media.fallbacks]
    return {"kind": KIND_FILE_METADATA, "created_at": created_at, "tags": tags, "content": description or "file"}


def parse_file_metadata(event: Event) -> Media | None:
    """The file a kind 1063 event describes, or None when it has no http(s) url (the first of each tag counts)."""
    if event.get("kind") != KIND_FILE_METADATA:
        return None
    imeta, thumbs = ["imeta"], []
    for tag in event.get("tags", []):
        if len(tag) >= 2 and isinstance(tag[0], str) and isinstance(tag[1], str):
            if tag[0] in ("image", "thumb") and not is_http_url(tag[1].strip()):
                continue  # a bad one never hides a good one after it
            if tag[0] == "thumb":  # a thumbnail of the same shape: the preview when there is no `image`
                thumbs.append(f"image {tag[1]}")
            else:
                imeta.append(f"{tag[0]} {tag[1]}")
    imeta += thumbs  # after every `image`: the first of a field counts
    media = parse_imeta([imeta])  # the same fields as an imeta tag: parsed in one place, nip92
    return media[0] if media else None
