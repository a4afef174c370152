"""The standalone NIP-96 server `tools/nip96_server.mjs` (a user's own file storage in tests), as a real process."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from devstack.nip96 import start_nip96
from devstack.services import Service, free_port
from tests.bridge.client import Reply, call, sha
from tests.unit.nostr_keys import keypair, sign_event

LIMIT = 64 * 1024
API = "/api/v2/media"
ALICE = keypair(301)
BOB = keypair(302)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_nip96(tmp_path_factory.mktemp("nip96-tool"), free_port(), max_upload_bytes=LIMIT)
    try:
        yield service
    finally:
        service.stop()


def nip94_tags(reply: Reply) -> dict[str, str]:
    """The tags of the NIP-94 event in an upload answer."""
    return {tag[0]: tag[1] for tag in reply.json()["nip94_event"]["tags"]}


def auth(
    key: tuple[str, str],
    url: str,
    method: str = "POST",
    *,
    payload: str | None = None,
    created_at: int | None = None,
    kind: int = 27235,
    tamper: bool = False,
) -> str:
    """A NIP-98 `Authorization` header for `method url`."""
    tags = [["u", url], ["method", method], *([["payload", payload]] if payload is not None else [])]
    created = int(time.time()) if created_at is None else created_at
    event = sign_event({"kind": kind, "content": "", "created_at": created, "tags": tags}, key[0])
    if tamper:
        event["sig"] = ("1" if event["sig"][0] != "1" else "2") + event["sig"][1:]
    return "Nostr " + base64.b64encode(json.dumps(event).encode()).decode()


def multipart(fields: dict[str, str], file: tuple[str, str, bytes] | None) -> tuple[bytes, str]:
    """(body, Content-Type) of a multipart/form-data form; `file` is (filename, type, bytes) of the `file` part."""
    boundary = f"----nip96test{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    if file is not None:
        name, content_type, data = file
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        parts.append(f"{head}Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(
    server: Service,
    data: bytes | None,
    authorization: str | None = None,
    *,
    content_type: str = "video/mp4",
    fields: dict[str, str] | None = None,
) -> Reply:
    """Upload `data` as clip.mp4 (the `file` part left out when None), signed by Alice for this URL by default."""
    body, form_type = multipart(fields or {}, None if data is None else ("clip.mp4", content_type, data))
    signed = auth(ALICE, f"{server.url}{API}") if authorization is None else authorization
    headers = {"Content-Type": form_type, **({"Authorization": signed} if signed else {})}
    return call(server.url, "POST", API, body, headers)


def log_lines(server: Service, line: str) -> int:
    return server.log_path.read_text().splitlines().count(line)


def test_discovery_document_names_the_api_and_downloads(server: Service) -> None:
    reply = call(server.url, "GET", "/.well-known/nostr/nip96.json")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {
        "api_url": f"{server.url}/api/v2/media",
        "download_url": f"{server.url}/media",
        "supported_nips": [94, 98],
        "content_types": ["image/*", "video/*", "audio/*", "application/octet-stream"],
        "plans": {"free": {"name": "Free", "is_nip98_required": True, "max_byte_size": LIMIT}},
    }


def test_upload_answers_the_nip94_event_and_its_url_serves_the_same_bytes(server: Service) -> None:
    fields = {"caption": "a clip", "alt": "a test pattern", "size": str(len(MP4)), "no_transform": "true"}
    reply = post(server, MP4, auth(ALICE, f"{server.url}{API}", payload=sha(MP4)), fields=fields)
    assert reply.status == 201, reply.reason
    answer = reply.json()
    assert (answer["status"], answer["message"]) == ("success", "Upload successful.")
    assert answer["nip94_event"]["content"] == "a clip"
    tags = nip94_tags(reply)
    assert tags["url"] == f"{server.url}/media/{sha(MP4)}.mp4"
    assert tags["x"] == tags["ox"] == sha(MP4)
    assert (tags["m"], tags["size"], tags["alt"]) == ("video/mp4", str(len(MP4)), "a test pattern")
    got = call(server.url, "GET", urlsplit(tags["url"]).path)
    assert (got.status, got.body) == (200, MP4)
    assert (got.headers["Content-Type"], got.headers["Content-Length"]) == ("video/mp4", str(len(MP4)))
    assert got.headers["Accept-Ranges"] == "bytes"
    assert call(server.url, "GET", f"/media/{sha(MP4)}").body == MP4  # the extension is optional
    assert call(server.url, "GET", f"{API}/{sha(MP4)}.mp4").body == MP4  # NIP-96's standard download URL too
    head = call(server.url, "HEAD", f"/media/{sha(MP4)}.mp4")
    assert (head.status, head.headers["Content-Length"], head.body) == (200, str(len(MP4)), b"")
    again = post(server, MP4, auth(BOB, f"{server.url}{API}"))  # no payload tag: accepted too
    assert again.status == 200  # an existing hash
    assert nip94_tags(again) == {key: value for key, value in tags.items() if key != "alt"}
    assert log_lines(server, f"POST {API} 201") >= 1


def test_range_requests_answer_206_with_the_slice(server: Service) -> None:
    data = bytes(range(256)) * 4
    assert post(server, data).status == 201
    path = f"/media/{sha(data)}.mp4"
    part = call(server.url, "GET", path, headers={"Range": "bytes=100-199"})
    assert (part.status, part.body) == (206, data[100:200])
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["Content-Length"] == "100"
    assert call(server.url, "GET", path, headers={"Range": "bytes=-10"}).body == data[-10:]
    beyond = call(server.url, "GET", path, headers={"Range": f"bytes={len(data)}-"})
    assert (beyond.status, beyond.headers["Content-Range"]) == (416, f"bytes */{len(data)}")


def test_type_comes_from_the_form_field_or_the_part(server: Service) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"not really a png"
    reply = post(server, png, content_type="application/octet-stream", fields={"content_type": "image/png"})
    assert reply.status == 201, reply.reason
    assert (nip94_tags(reply)["m"], nip94_tags(reply)["url"]) == ("image/png", f"{server.url}/media/{sha(png)}.png")
    assert call(server.url, "GET", f"/media/{sha(png)}.png").headers["Content-Type"] == "image/png"
    text = post(server, b"plain text", content_type="text/plain")
    assert text.status == 400
    assert "text/plain" in text.reason


def later(seconds: int) -> int:
    return int(time.time()) + seconds


@pytest.mark.parametrize(
    ("case", "make_auth", "why"),
    [
        ("wrong u tag", lambda url: auth(ALICE, url.replace(API, "/api/v2/other")), "u tag"),
        ("u tag of another host", lambda url: auth(ALICE, url.replace("127.0.0.1", "localhost")), "u tag"),
        ("u tag with a query", lambda url: auth(ALICE, f"{url}?x=1"), "u tag"),
        ("wrong method", lambda url: auth(ALICE, url, "PUT"), "method tag"),
        ("stale", lambda url: auth(ALICE, url, created_at=later(-120)), "created_at"),
        ("from the future", lambda url: auth(ALICE, url, created_at=later(120)), "created_at"),
        ("wrong kind", lambda url: auth(ALICE, url, kind=24242), "kind 27235"),
        ("bad signature", lambda url: auth(ALICE, url, tamper=True), "signature"),
        ("not base64 JSON", lambda url: "Nostr not-an-event", "base64"),
        ("no auth", lambda url: "", "Missing"),
    ],
)
def test_bad_auth_is_401_and_nothing_is_stored(server: Service, case: str, make_auth: Any, why: str) -> None:
    data = f"refused: {case}".encode()
    reply = post(server, data, make_auth(f"{server.url}{API}"))
    assert reply.status == 401, case
    assert why in reply.reason
    assert reply.json() == {"status": "error", "message": reply.reason}
    assert call(server.url, "HEAD", f"/media/{sha(data)}").status == 404


def test_payload_tag_of_other_bytes_is_403(server: Service) -> None:
    data = b"payload mismatch"
    reply = post(server, data, auth(ALICE, f"{server.url}{API}", payload=sha(b"other bytes")))
    assert reply.status == 403
    assert reply.json()["status"] == "error"
    assert call(server.url, "HEAD", f"/media/{sha(data)}").status == 404
    as_base64 = base64.b64encode(hashlib.sha256(data).digest()).decode()  # as NIP-96's own text has it
    assert post(server, data, auth(ALICE, f"{server.url}{API}", payload=as_base64)).status == 201


def test_form_without_a_file_is_400(server: Service) -> None:
    assert post(server, None, fields={"caption": "no file"}).status == 400
    signed = auth(ALICE, f"{server.url}{API}")
    not_a_form = call(server.url, "POST", API, b"raw", {"Authorization": signed, "Content-Type": "video/mp4"})
    assert not_a_form.status == 400
    assert not_a_form.json()["status"] == "error"


@pytest.mark.parametrize("size", [LIMIT + 1, 2 * 1024 * 1024])  # the file, or the whole body (refused unread)
def test_too_large_upload_is_413(server: Service, size: int) -> None:
    data = b"x" * size
    reply = post(server, data)
    assert reply.status == 413
    assert reply.json() == {"status": "error", "message": reply.reason}
    assert call(server.url, "HEAD", f"/media/{sha(data)}").status == 404


def test_declared_size_over_the_limit_is_413(server: Service) -> None:
    assert post(server, b"small", fields={"size": str(LIMIT + 1)}).status == 413


def test_missing_file_is_404(server: Service) -> None:
    reply = call(server.url, "GET", f"/media/{'0' * 64}.png")
    assert reply.status == 404
    assert reply.json()["status"] == "error"


def test_cors_on_answers_and_preflight(server: Service) -> None:
    preflight = call(server.url, "OPTIONS", API, headers={"Origin": "http://app.test"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, POST, DELETE"
    assert preflight.headers["Access-Control-Allow-Headers"] == "Authorization, *"
    for reply in (call(server.url, "GET", "/.well-known/nostr/nip96.json"), post(server, b"cors", "")):
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
        assert reply.headers["Access-Control-Expose-Headers"] == "*"


def test_list_and_owner_only_delete(server: Service) -> None:
    data = b"to be deleted"
    assert post(server, data).status == 201
    query = f"{API}?page=0&count=50"  # NIP-98: the u tag includes the query
    listed = call(server.url, "GET", query, headers={"Authorization": auth(ALICE, f"{server.url}{query}", "GET")})
    assert listed.status == 200
    assert sha(data) in [dict(file["tags"])["ox"] for file in listed.json()["files"]]
    path = f"{API}/{sha(data)}"
    refused = call(server.url, "DELETE", path, headers={"Authorization": auth(BOB, f"{server.url}{path}", "DELETE")})
    assert refused.status == 403
    deleted = call(server.url, "DELETE", path, headers={"Authorization": auth(ALICE, f"{server.url}{path}", "DELETE")})
    assert deleted.status == 200
    assert deleted.json() == {"status": "success", "message": "File deleted."}
    assert call(server.url, "GET", f"/media/{sha(data)}").status == 404


def test_transform_serves_other_bytes_and_says_so_then_stops_cleanly(tmp_path: Path) -> None:
    transforming = start_nip96(tmp_path, free_port(), transform=True)
    try:
        assert transforming.log_path.name == "nip96-transform.log"
        reply = post(transforming, MP4, fields={"no_transform": "true"})  # asked, and ignored
        assert reply.status == 201, reply.reason
        tags = nip94_tags(reply)
        assert tags["ox"] == sha(MP4)
        assert tags["x"] != tags["ox"]
        served = call(transforming.url, "GET", urlsplit(tags["url"]).path)
        assert served.status == 200
        assert served.body != MP4
        assert (sha(served.body), tags["size"]) == (tags["x"], str(len(served.body)))
        assert log_lines(transforming, f"POST {API} 201") == 1
    finally:
        transforming.stop()
    assert transforming.process.returncode == 0
    assert "nip96 listening on " in transforming.log_path.read_text()
