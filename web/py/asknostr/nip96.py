"""NIP-96 HTTP file storage, client side: discovery (`/.well-known/nostr/nip96.json`) and the upload answer check.

The upload itself is a `multipart/form-data` POST of `file` (with `no_transform=true`, since the torrent made in
the browser describes the original bytes) to the server's `api_url`, with a NIP-98 `Authorization` header.
"""

from __future__ import annotations

from urllib.parse import urljoin

from asknostr.blossom import Uploaded, UploadRejected
from asknostr.nip92 import is_http_url

WELL_KNOWN = "/.well-known/nostr/nip96.json"


def info_url(server: str) -> str:
    return server.rstrip("/") + WELL_KNOWN


def api_url(info: object, server: str) -> str:
    """The upload endpoint a server's nip96.json names (relative URLs resolved against the server)."""
    if not isinstance(info, dict):
        raise UploadRejected("the server's nip96.json is not a JSON object")
    delegated = info.get("delegated_to_url")
    api = info.get("api_url")
    if isinstance(delegated, str) and delegated and not api:
        raise UploadRejected(f"the server delegates uploads to {delegated}: add that server instead")
    if not isinstance(api, str) or not api:
        raise UploadRejected("the server's nip96.json has no api_url")
    url = urljoin(server.rstrip("/") + "/", api)
    if not is_http_url(url):
        raise UploadRejected("the server's api_url is not an http(s) URL")
    return url


def _tags(event: object) -> dict[str, str]:
    tags = event.get("tags") if isinstance(event, dict) else None
    if not isinstance(tags, list):
        return {}
    found: dict[str, str] = {}
    for tag in tags:
        if isinstance(tag, list) and len(tag) >= 2 and isinstance(tag[0], str) and isinstance(tag[1], str):
            found.setdefault(tag[0], tag[1])
    return found


def parse_upload_answer(answer: object, expected_sha256: str) -> Uploaded:
    """The stored file of a NIP-96 upload answer; refused unless its bytes are the original file's."""
    if not isinstance(answer, dict):
        raise UploadRejected("the server's answer is not JSON")
    if answer.get("status") != "success":
        message = answer.get("message")
        raise UploadRejected(f"the server refused the upload: {message if isinstance(message, str) else answer}")
    tags = _tags(answer.get("nip94_event"))
    url = tags.get("url", "")
    if not is_http_url(url):
        processing = answer.get("processing_url")
        if processing:
            raise UploadRejected("the server is still processing the file (no url yet)")
        raise UploadRejected("the server's answer has no url")
    stored = (tags.get("x") or tags.get("ox") or "").lower()
    if stored != expected_sha256:
        raise UploadRejected("the server transformed the file (its sha256 differs): the torrent would not match")
    size = tags.get("size", "")
    return Uploaded(url=url, sha256=expected_sha256, size=int(size) if size.isdigit() else None, mime=tags.get("m", ""))
