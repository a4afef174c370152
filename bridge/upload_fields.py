"""The header fields of resumable uploads (draft-ietf-httpbis-resumable-upload), read and written. Pure: no I/O.

`Upload-Offset`, `Upload-Length` (Structured Field Integers), `Upload-Complete` (a Structured Field Boolean) and
`Upload-Limit` (a Dictionary). The draft says a field whose value is not of its type is ignored, as if absent:
`item` returns None then, and the caller decides whether the field was required.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bridge.errors import BridgeError

PARTIAL_UPLOAD = "application/partial-upload"
"""The media type of a PATCH's content: the next bytes of the upload."""

_INTEGER = re.compile(r"-?[0-9]{1,15}", re.ASCII)  # RFC 9651 sf-integer: at most 15 digits
_BOOLEAN = {"?0": False, "?1": True}


def _bare_item(values: Sequence[str]) -> str | None:
    """The one value's bare item, parameters (`;name=value`) left out; None if the field is absent or repeated."""
    if len(values) != 1:
        return None
    return values[0].partition(";")[0].strip(" \t")


def integer(values: Sequence[str]) -> int | None:
    """A non-negative sf-integer (an offset, a length); None when absent or of another type."""
    item = _bare_item(values)
    if item is None or _INTEGER.fullmatch(item) is None:
        return None
    value = int(item)
    return value if value >= 0 else None


def boolean(values: Sequence[str]) -> bool | None:
    item = _bare_item(values)
    return None if item is None else _BOOLEAN.get(item)


def sf_boolean(value: bool) -> str:
    return "?1" if value else "?0"


def limit(max_size: int, max_age: float | None = None) -> str:
    """`Upload-Limit`: the largest upload, and the seconds the upload resource has left when known."""
    parts = [f"max-size={max_size}"]
    if max_age is not None:
        parts.append(f"max-age={max(0, int(max_age))}")
    return ", ".join(parts)


def declared_length(upload_length: int | None, complete: bool, content_length: int | None, offset: int) -> int | None:
    """The whole upload's length as a request declares it: `Upload-Length`, or, when the request completes the
    upload, the offset plus its `Content-Length` (the draft's two indicators, which must agree)."""
    by_content = offset + content_length if complete and content_length is not None else None
    if upload_length is not None and by_content is not None and upload_length != by_content:
        raise BridgeError(
            400,
            f"Inconsistent upload length: Upload-Length is {upload_length} but the request would end the upload at"
            f" {by_content} bytes",
        )
    return upload_length if upload_length is not None else by_content


def content_type_is_partial(headers: Mapping[str, str]) -> bool:
    return headers.get("Content-Type", "").split(";")[0].strip().lower() == PARTIAL_UPLOAD
