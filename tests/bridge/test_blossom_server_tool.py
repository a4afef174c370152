"""The standalone Blossom server `tools/blossom_server.mjs` (a user's own media server in tests), as a real process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from devstack.blossom import start_blossom
from devstack.services import Service, free_port
from tests.bridge.client import Reply, blossom_auth, call, sha
from tests.bridge.client import upload as client_upload
from tests.unit.nostr_keys import keypair

LIMIT = 64 * 1024
ALICE = keypair(201)
BOB = keypair(202)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_blossom(tmp_path_factory.mktemp("blossom-tool"), free_port(), max_upload_bytes=LIMIT)
    try:
        yield service
    finally:
        service.stop()


def put(server: Service, data: bytes, authorization: str, content_type: str = "video/mp4") -> Reply:
    return call(server.url, "PUT", "/upload", data, {"Authorization": authorization, "Content-Type": content_type})


def log_lines(server: Service, line: str) -> int:
    return server.log_path.read_text().splitlines().count(line)


def test_upload_then_get_serves_the_same_bytes(server: Service) -> None:
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    reply = put(server, data, blossom_auth(ALICE[0], "upload", [sha(data)]))
    assert reply.status == 201, reply.reason
    descriptor = reply.json()
    assert descriptor["url"] == f"{server.url}/{sha(data)}.mp4"
    assert (descriptor["sha256"], descriptor["size"], descriptor["type"]) == (sha(data), len(data), "video/mp4")
    assert abs(descriptor["uploaded"] - time.time()) < 60
    got = call(server.url, "GET", urlsplit(descriptor["url"]).path)
    assert got.status == 200
    assert got.body == data
    assert got.headers["Content-Type"] == "video/mp4"
    assert got.headers["Content-Length"] == str(len(data))
    assert got.headers["Accept-Ranges"] == "bytes"
    assert call(server.url, "GET", f"/{sha(data)}").body == data  # the extension is optional
    head = call(server.url, "HEAD", f"/{sha(data)}.mp4")
    assert (head.status, head.headers["Content-Length"], head.body) == (200, str(len(data)), b"")
    again = put(server, data, blossom_auth(BOB[0], "upload", [sha(data)]))
    assert again.status == 200
    assert again.json() == descriptor
    assert log_lines(server, "PUT /upload 201") >= 1


def test_the_shared_test_client_uploads_to_it(server: Service) -> None:
    data = b"uploaded by tests.bridge.client"
    url = client_upload(server.url, data, ALICE[0])
    assert url.startswith(f"{server.url}/{sha(data)}")
    assert call(server.url, "GET", urlsplit(url).path).body == data


def test_range_requests_answer_206_with_the_slice(server: Service) -> None:
    data = bytes(range(256)) * 4
    assert put(server, data, blossom_auth(ALICE[0], "upload", [sha(data)])).status in (200, 201)
    path = f"/{sha(data)}.mp4"
    part = call(server.url, "GET", path, headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.body == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["Content-Length"] == "100"
    tail = call(server.url, "GET", path, headers={"Range": "bytes=-10"})
    assert (tail.status, tail.body) == (206, data[-10:])
    open_ended = call(server.url, "GET", path, headers={"Range": "bytes=1000-"})
    assert (open_ended.status, open_ended.body) == (206, data[1000:])
    beyond = call(server.url, "GET", path, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    assert beyond.reason


def test_missing_blob_is_404_with_a_reason(server: Service) -> None:
    reply = call(server.url, "GET", f"/{'0' * 64}.png")
    assert reply.status == 404
    assert reply.reason
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("case", "make_auth"),
    [
        ("wrong x tag", lambda data: blossom_auth(ALICE[0], "upload", [sha(b"other bytes")])),
        ("no x tag", lambda data: blossom_auth(ALICE[0], "upload")),
        ("expired", lambda data: blossom_auth(ALICE[0], "upload", [sha(data)], expires_in=-5)),
        (
            "from the future",
            lambda data: blossom_auth(ALICE[0], "upload", [sha(data)], created_at=int(time.time()) + 600),
        ),
        ("wrong verb", lambda data: blossom_auth(ALICE[0], "delete", [sha(data)])),
        ("bad signature", lambda data: blossom_auth(ALICE[0], "upload", [sha(data)], tamper=True)),
        ("no auth", lambda data: ""),
    ],
)
def test_bad_upload_auth_is_refused_and_nothing_is_stored(server: Service, case: str, make_auth: Any) -> None:
    data = f"refused: {case}".encode()
    reply = put(server, data, make_auth(data))
    assert reply.status in (400, 401), case
    assert reply.reason
    assert reply.json()["message"] == reply.reason
    assert call(server.url, "HEAD", f"/{sha(data)}").status == 404


def test_too_large_upload_is_413(server: Service) -> None:
    data = b"x" * (LIMIT + 1)
    reply = put(server, data, blossom_auth(ALICE[0], "upload", [sha(data)]))
    assert reply.status == 413
    assert reply.reason
    assert call(server.url, "HEAD", f"/{sha(data)}").status == 404


def test_cors_on_answers_and_preflight(server: Service) -> None:
    preflight = call(server.url, "OPTIONS", "/upload", headers={"Origin": "http://app.test"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, PUT, DELETE"
    assert preflight.headers["Access-Control-Allow-Headers"] == "Authorization, *"
    refused = put(server, b"cors", "")
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.headers["Access-Control-Expose-Headers"] == "*"


def test_list_and_owner_only_delete(server: Service) -> None:
    data = b"to be deleted"
    assert put(server, data, blossom_auth(ALICE[0], "upload", [sha(data)])).status == 201
    listed = call(server.url, "GET", f"/list/{ALICE[1]}")
    assert sha(data) in [blob["sha256"] for blob in listed.json()]
    path = f"/{sha(data)}"
    by_bob = call(server.url, "DELETE", path, headers={"Authorization": blossom_auth(BOB[0], "delete", [sha(data)])})
    assert by_bob.status == 403
    deleted = call(server.url, "DELETE", path, headers={"Authorization": blossom_auth(ALICE[0], "delete", [sha(data)])})
    assert deleted.status == 200
    assert call(server.url, "GET", path).status == 404
    assert sha(data) not in [blob["sha256"] for blob in call(server.url, "GET", f"/list/{ALICE[1]}").json()]


def test_fail_uploads_answers_that_status_and_stops_cleanly(tmp_path: Path) -> None:
    failing = start_blossom(tmp_path, free_port(), fail_uploads=500)
    try:
        assert failing.log_path.name == "blossom-failing.log"
        data = b"never stored"
        reply = put(failing, data, blossom_auth(ALICE[0], "upload", [sha(data)]))
        assert reply.status == 500
        assert reply.reason
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
        assert call(failing.url, "GET", f"/{sha(data)}").status == 404  # GET still answers
        assert log_lines(failing, "PUT /upload 500") == 1
    finally:
        failing.stop()
    assert failing.process.returncode == 0
    assert "blossom listening on " in failing.log_path.read_text()
