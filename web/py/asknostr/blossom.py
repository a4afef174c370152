"""Blossom, client side: the kind 24242 upload authorisation (BUD-02, BUD-11) and the blob descriptor check.

An upload counts only when the server's descriptor names the very bytes sent: same sha256, a usable http(s) URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from asknostr.nip01 import is_hex64
from asknostr.nip92 import is_http_url

KIND_BLOSSOM_AUTH = 24242
AUTH_LIFETIME = 600


class UploadRejected(ValueError):
    """The server's answer is not a usable upload of this file; the message says why."""


@dataclass(frozen=True)
class Uploaded:
    url: str
    sha256: str
    size: int | None
    mime: str


def upload_auth_template(sha256: str, size: int, now: int, *, lifetime: int = AUTH_LIFETIME) -> dict[str, object]:
    """The unsigned kind 24242 event allowing the upload of one blob (its `x`) until `now + lifetime`."""
    if not is_hex64(sha256):
        raise ValueError("sha256 must be 64 lowercase hex")
    tags = [["t", "upload"], ["x", sha256], ["size", str(size)], ["expiration", str(now + lifetime)]]
    return {"kind": KIND_BLOSSOM_AUTH, "created_at": now, "tags": tags, "content": f"Upload {sha256[:12]}"}


def upload_url(server: str) -> str:
    return server.rstrip("/") + "/upload"


def parse_descriptor(answer: object, expected_sha256: str) -> Uploaded:
    """The blob descriptor of a BUD-02 `PUT /upload` answer, checked against the file's sha256."""
    if not isinstance(answer, dict):
        raise UploadRejected("the server's answer is not a blob descriptor")
    url, sha256, size, mime = answer.get("url"), answer.get("sha256"), answer.get("size"), answer.get("type")
    if not isinstance(sha256, str) or sha256.lower() != expected_sha256:
        raise UploadRejected(f"the server stored other bytes (sha256 {str(sha256)[:16]}…, not {expected_sha256[:16]}…)")
    if not isinstance(url, str) or not is_http_url(url):
        raise UploadRejected("the server's descriptor has no http(s) url")
    return Uploaded(
        url=url,
        sha256=expected_sha256,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        mime=mime if isinstance(mime, str) else "",
    )
