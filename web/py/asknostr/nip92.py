"""NIP-92: media attachments described by `imeta` tags."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from asknostr import magnet

_HEX = re.compile(r"[0-9a-f]+")
_EXTENSIONS = {
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "webp", "avif", "svg"), "image"),
    **dict.fromkeys(("mp4", "webm", "mov", "m4v", "ogv"), "video"),
    **dict.fromkeys(("mp3", "ogg", "oga", "wav", "flac", "m4a", "opus", "aac"), "audio"),
}


@dataclass(frozen=True)
class Media:
    """One attachment; infohash and magnet (NIP-94 `i`/`magnet`) let it be fetched over WebTorrent."""

    url: str
    mime: str = ""
    sha256: str = ""
    dim: str = ""
    alt: str = ""
    blurhash: str = ""
    fallbacks: tuple[str, ...] = ()
    size: int | None = None
    infohash: str = ""
    magnet: str = ""


def is_http_url(url: str) -> bool:
    """Whether url is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)


def _hex_or_empty(value: str, lengths: tuple[int, ...]) -> str:
    value = value.lower()
    return value if len(value) in lengths and _HEX.fullmatch(value) else ""


def _parse_one(tag: list[str]) -> Media | None:
    fields: dict[str, str] = {}
    fallbacks = []
    for entry in tag[1:]:
        key, _, value = entry.partition(" ")
        value = value.strip()
        if key == "fallback":
            if is_http_url(value):
                fallbacks.append(value)
        else:
            fields.setdefault(key, value)
    url = fields.get("url", "")
    if not is_http_url(url):
        return None
    size = fields.get("size", "")
    magnet = fields.get("magnet", "")
    return Media(
        url=url,
        mime=fields.get("m", "").lower(),
        sha256=_hex_or_empty(fields.get("x", ""), (64,)),
        dim=fields.get("dim", ""),
        alt=fields.get("alt", ""),
        blurhash=fields.get("blurhash", ""),
        fallbacks=tuple(fallbacks),
        size=int(size) if size.isascii() and size.isdigit() else None,
        infohash=_hex_or_empty(fields.get("i", ""), (40, 64)),
        magnet=magnet if magnet.startswith("magnet:?") else "",
    )


def parse_imeta(tags: list[list[str]]) -> list[Media]:
    """The media of every `imeta` tag that has an http(s) url, in tag order."""
    parsed = (_parse_one(tag) for tag in tags if tag[:1] == ["imeta"])
    return [media for media in parsed if media is not None]


def media_kind(media: Media) -> str | None:
    """The media kind, "image", "video" or "audio", from the MIME type or else the extension of the URL's file
    name (of the magnet's name for media without a URL)."""
    kind = media.mime.partition("/")[0]
    if kind in ("image", "video", "audio"):
        return kind
    path = urlsplit(media.url).path if media.url else magnet.display_name(media.magnet)
    name = path.rpartition("/")[2].lower()
    return _EXTENSIONS.get(name.rpartition(".")[2]) if "." in name else None


def imeta_tag(media: Media) -> list[str]:
    """An `imeta` tag for media, with only its non-empty fields."""
    fields = [
        ("url", media.url),
        ("m", media.mime),
        ("x", media.sha256),
        ("size", "" if media.size is None else str(media.size)),
        ("dim", media.dim),
        ("blurhash", media.blurhash),
        ("alt", media.alt),
        ("i", media.infohash),
        ("magnet", media.magnet),
        *(("fallback", url) for url in media.fallbacks),
    ]
    return ["imeta", *(f"{key} {value}" for key, value in fields if value)]
