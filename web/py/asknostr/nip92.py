"""NIP-92: media attachments described by `imeta` tags. Every field comes from other people's events, so each
optional one is checked here and dropped when malformed (the feed renders what is left)."""

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from asknostr import blurhash, magnet

_HEX = re.compile(r"[0-9a-f]+")
_DIM = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")
MAX_SIDE = 65_535  # pixels: JPEG's limit, past what browsers decode
MAX_RATIO = 4.0  # the reserved box is never wider than 4:1 nor taller than 1:4 (the media is fitted inside it)
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
    image: str = ""  # a preview image (a video's poster), http(s)
    thumbhash: str = ""  # base64
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


def parse_dim(value: str) -> tuple[int, int] | None:
    """(width, height) of a `dim` value "<width>x<height>", each 1..MAX_SIDE pixels, else None."""
    found = _DIM.fullmatch(value)
    if found is None:
        return None
    width, height = int(found.group(1)), int(found.group(2))
    return (width, height) if width <= MAX_SIDE and height <= MAX_SIDE else None


def aspect_ratio(media: Media) -> str:
    """The CSS aspect-ratio to reserve for media before its bytes arrive ("16 / 9"), clamped to MAX_RATIO either
    way; "" when its dim is unknown."""
    dim = parse_dim(media.dim)
    if dim is None:
        return ""
    width, height = dim
    if width > height * MAX_RATIO:
        return f"{MAX_RATIO:g} / 1"
    if height > width * MAX_RATIO:
        return f"1 / {MAX_RATIO:g}"
    return f"{width} / {height}"


def is_thumbhash(value: str) -> bool:
    """Base64 of 5..64 bytes: ThumbHash's header is 5 bytes (3 + 2 for the shape), a hash about 25 in all."""
    if not value.isascii() or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):
        return False
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return 5 <= len(raw) <= 64


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
        dim=fields.get("dim", "") if parse_dim(fields.get("dim", "")) else "",
        alt=fields.get("alt", ""),
        blurhash=fields.get("blurhash", "") if blurhash.is_valid(fields.get("blurhash", "")) else "",
        image=fields.get("image", "") if is_http_url(fields.get("image", "")) else "",
        thumbhash=fields.get("thumbhash", "") if is_thumbhash(fields.get("thumbhash", "")) else "",
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
        ("thumbhash", media.thumbhash),
        ("image", media.image),
        ("alt", media.alt),
        ("i", media.infohash),
        ("magnet", media.magnet),
        *(("fallback", url) for url in media.fallbacks),
    ]
    return ["imeta", *(f"{key} {value}" for key, value in fields if value)]
