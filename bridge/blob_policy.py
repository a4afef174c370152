"""What a user's blob may do when a browser loads it: play inline if it is passive media, never run.

Blobs are served from their own origin (the Bridge's media port or host, see bridge.config), so even a page that
ran there would reach nothing of the app's. These headers are the second wall, on every blob response:
- `Content-Security-Policy: sandbox` with no `allow-scripts`: a document opened from a blob has an opaque origin
  and runs no script (an HTML page, an SVG with `<script>`, an XML document with XHTML inside);
- `X-Content-Type-Options: nosniff`: the browser takes the type given, never guesses HTML from the bytes;
- only passive media (images but SVG, audio, video, plain text) is `inline`; everything else is an `attachment`,
  and the types a browser would run as a document or script (HTML, XML, SVG, JavaScript) go out as
  `application/octet-stream`: a download, whatever a link to it says.
Pure functions (no I/O), tested in CPython.
"""

from __future__ import annotations

import mimetypes
import re

NEUTRAL_TYPE = "application/octet-stream"
CONTENT_SECURITY_POLICY = (
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
)
"""No `allow-scripts`: nothing runs. The sources let a blob opened on its own show as the browser's own image or
media page (which styles itself inline)."""

_INLINE = re.compile(
    r"(image/(?!svg)[\w.+-]+|audio/[\w.+-]+|video/[\w.+-]+|text/plain|application/octet-stream)", re.ASCII | re.I
)
_ACTIVE = re.compile(
    r"(text/html|application/xhtml\+xml|[\w.+-]+/(?:[\w.-]+\+)?xml|image/svg\+xml|"
    r"(?:text|application)/(?:x-)?(?:java|ecma)script|application/(?:x-)?shockwave-flash|multipart/[\w.+-]+)",
    re.ASCII | re.I,
)
_RANGE = re.compile(r"bytes=([0-9]{0,30})-([0-9]{0,30})")


def response_headers(stored_type: str) -> dict[str, str]:
    """The headers of a blob response for a blob stored with `stored_type` (lowercase, no parameters)."""
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff"}
    if _ACTIVE.fullmatch(stored_type):  # first: "image/x+xml" is XML, whatever its top type says
        headers["Content-Type"], headers["Content-Disposition"] = NEUTRAL_TYPE, "attachment"
    elif _INLINE.fullmatch(stored_type):
        headers["Content-Type"], headers["Content-Disposition"] = stored_type, "inline"
    else:
        headers["Content-Type"], headers["Content-Disposition"] = stored_type, "attachment"
    return headers


def _single(header: str | None) -> tuple[str, str] | None:
    """(first, last) of `header` when it is one well-formed byte range (either may be '', not both; first <= last)."""
    match = _RANGE.fullmatch(header.strip(" \t")) if header is not None else None  # aiohttp strips no other space
    if match is None:
        return None
    first, last = match.groups()
    if first == "":
        return (first, last) if last != "" else None
    return (first, last) if last == "" or int(first) <= int(last) else None


def single_range(header: str | None) -> bool:
    """Whether `header` is one well-formed byte range (the only kind served: RFC 9110 lets a server ignore the
    rest, and then the whole blob is sent)."""
    return _single(header) is not None


def range_satisfiable(header: str | None, size: int) -> bool:
    """False for one well-formed range that selects no byte of a `size`-byte blob: it starts at or after the end,
    or is a suffix of 0 bytes (`bytes=-0`). Such a request gets 416 (RFC 9110 §15.5.17)."""
    bounds = _single(header)
    if bounds is None:
        return True
    first, last = bounds
    if first == "":
        return int(last) > 0 and size > 0
    return int(first) < size


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) that one well-formed, satisfiable range selects in a `size`-byte blob;
    None for the whole blob (no Range, or one the server ignores). A last byte past the end is the end; a suffix
    `bytes=-n` is the last n bytes."""
    bounds = _single(header)
    if bounds is None or not range_satisfiable(header, size):
        return None
    first, last = bounds
    if first == "":
        return max(0, size - int(last)), size - 1
    return int(first), size - 1 if last == "" else min(int(last), size - 1)


def type_of_name(name: str) -> str:
    """The type a blob known only by a file name gets (a torrent's name: a ping's download, a take-back)."""
    return mimetypes.guess_type(name, strict=False)[0] or NEUTRAL_TYPE
