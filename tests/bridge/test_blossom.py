"""The Bridge as a Blossom server (BUD-01, -02, -06, -11, -12), against a real Bridge process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devstack.services import Service, free_port, start_bridge
from tests.backends import BridgeBackend
from tests.bridge.client import Reply, blossom_auth, call, sha
from tests.unit.nostr_keys import keypair

LIMIT = 256 * 1024
ALICE = keypair(101)
BOB = keypair(102)
CAROL = keypair(103)


@dataclass
class Bridge:
    data_dir: Path
    service: Service
    backend: BridgeBackend

    @property
    def url(self) -> str:
        """The blobs' origin, where Blossom answers."""
        return self.service.extra["media_url"]

    @property
    def app_url(self) -> str:
        return self.service.url

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "bridge" / "blobs"

    def restart(self) -> None:
        self.service.stop()
        self.service = start(self.data_dir, self.backend)


def start(data_dir: Path, backend: BridgeBackend) -> Service:
    """A Bridge on a free port, with a small upload limit, on SQLite or PostgreSQL."""
    extra = ("--max-upload-bytes", str(LIMIT), *backend.args())
    return start_bridge(data_dir, free_port(), relays=[], trackers=[], extra_args=extra, env=backend.env)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory, bridge_backend: BridgeBackend) -> Iterator[Bridge]:
    data_dir = tmp_path_factory.mktemp("blossom")
    running = Bridge(data_dir, start(data_dir, bridge_backend), bridge_backend)
    try:
        yield running
    finally:
        running.service.stop()


def upload(
    bridge: Bridge, data: bytes, key: tuple[str, str] = ALICE, content_type: str = "image/png", **extra: str
) -> Reply:
    headers = {"Authorization": blossom_auth(key[0], "upload", [sha(data)]), "Content-Type": content_type, **extra}
    return call(bridge.url, "PUT", "/upload", data, headers)


def stored_files(bridge: Bridge) -> list[Path]:
    return [p for p in bridge.blobs_dir.rglob("*") if p.is_file()]


def test_upload_returns_a_descriptor_whose_url_serves_the_blob(bridge: Bridge) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100
    reply = upload(bridge, data)
    assert reply.status == 201, reply.headers.get("X-Reason")
    descriptor = reply.json()
    assert descriptor["sha256"] == sha(data)
    assert descriptor["size"] == len(data)
    assert descriptor["type"] == "image/png"
    assert abs(descriptor["uploaded"] - time.time()) < 60
    assert descriptor["url"] == f"{bridge.url}/{sha(data)}.png"
    got = call(bridge.url, "GET", urlsplit(descriptor["url"]).path)
    assert got.status == 200
    assert got.body == data
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Length"] == str(len(data))
    assert got.headers["Access-Control-Allow-Origin"] == "*"
    again = upload(bridge, data)
    assert again.status == 200
    assert again.json() == descriptor


def test_get_without_extension_head_and_range(bridge: Bridge) -> None:
    data = bytes(range(256)) * 4
    assert upload(bridge, data, content_type="application/pdf").status == 201
    plain = call(bridge.url, "GET", f"/{sha(data)}")
    assert (plain.status, plain.body, plain.headers["Content-Type"]) == (200, data, "application/pdf")
    other_ext = call(bridge.url, "GET", f"/{sha(data)}.jpg")  # the stored type wins over the extension
    assert (other_ext.status, other_ext.headers["Content-Type"]) == (200, "application/pdf")
    head = call(bridge.url, "HEAD", f"/{sha(data)}.pdf")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Content-Type"] == "application/pdf"
    assert head.headers["Accept-Ranges"] == "bytes"
    part = call(bridge.url, "GET", f"/{sha(data)}.pdf", headers={"Range": "bytes=10-19"})
    assert part.status == 206
    assert part.body == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = call(bridge.url, "GET", f"/{sha(data)}", headers={"Range": "bytes=-5"})
    assert (tail.status, tail.body) == (206, data[-5:])
    beyond = call(bridge.url, "GET", f"/{sha(data)}", headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status == 416


def test_missing_blob_is_404_with_a_reason(bridge: Bridge) -> None:
    for method in ("GET", "HEAD"):
        reply = call(bridge.url, method, f"/{'ab' * 32}.png")
        assert reply.status == 404
        assert reply.headers["X-Reason"]
        assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_list_by_pubkey(bridge: Bridge) -> None:
    key = keypair(110)
    blobs = [f"list blob {i}".encode() for i in range(3)]
    for blob in blobs:
        assert upload(bridge, blob, key, content_type="text/plain").status == 201
    assert upload(bridge, b"someone else's", keypair(111)).status == 201
    listed = call(bridge.url, "GET", f"/list/{key[1]}")
    assert listed.status == 200
    assert listed.headers["Access-Control-Allow-Origin"] == "*"
    descriptors = listed.json()
    assert sorted(d["sha256"] for d in descriptors) == sorted(sha(b) for b in blobs)
    assert [d["uploaded"] for d in descriptors] == sorted((d["uploaded"] for d in descriptors), reverse=True)
    assert all(d["type"] == "text/plain" and d["url"].endswith(".txt") for d in descriptors)
    first = call(bridge.url, "GET", f"/list/{key[1]}?limit=2").json()
    rest = call(bridge.url, "GET", f"/list/{key[1]}?limit=2&cursor={first[-1]['sha256']}").json()
    assert first + rest == descriptors
    assert call(bridge.url, "GET", f"/list/{key[1]}?since={int(time.time()) + 3600}").json() == []
    assert call(bridge.url, "GET", f"/list/{key[1]}?until=1000").json() == []
    assert len(call(bridge.url, "GET", f"/list/{key[1]}?since=1000&until={int(time.time()) + 60}").json()) == 3
    assert call(bridge.url, "GET", f"/list/{keypair(112)[1]}").json() == []
    bad = call(bridge.url, "GET", "/list/not-a-pubkey")
    assert bad.status == 400
    assert bad.headers["X-Reason"]
    assert call(bridge.url, "GET", f"/list/{key[1]}?since=yesterday").status == 400


def test_delete_only_by_an_owner_and_the_file_goes_with_the_last_owner(bridge: Bridge) -> None:
    data = b"shared by alice and bob"
    digest = sha(data)
    assert upload(bridge, data, ALICE).status == 201
    assert upload(bridge, data, BOB).status == 200
    by_carol = call(
        bridge.url, "DELETE", f"/{digest}", headers={"Authorization": blossom_auth(CAROL[0], "delete", [digest])}
    )
    assert by_carol.status in (401, 403)
    assert by_carol.headers["X-Reason"]
    by_alice = call(
        bridge.url, "DELETE", f"/{digest}", headers={"Authorization": blossom_auth(ALICE[0], "delete", [digest])}
    )
    assert by_alice.status == 200, by_alice.headers.get("X-Reason")
    assert call(bridge.url, "GET", f"/{digest}").body == data  # Bob still has it
    assert digest not in [d["sha256"] for d in call(bridge.url, "GET", f"/list/{ALICE[1]}").json()]
    assert digest in [d["sha256"] for d in call(bridge.url, "GET", f"/list/{BOB[1]}").json()]
    by_bob = call(
        bridge.url, "DELETE", f"/{digest}", headers={"Authorization": blossom_auth(BOB[0], "delete", [digest])}
    )
    assert by_bob.status == 200
    assert call(bridge.url, "GET", f"/{digest}").status == 404
    assert digest not in [p.name for p in stored_files(bridge)]
    again = call(
        bridge.url, "DELETE", f"/{digest}", headers={"Authorization": blossom_auth(BOB[0], "delete", [digest])}
    )
    assert again.status == 404


def test_delete_needs_a_delete_token_for_that_blob(bridge: Bridge) -> None:
    data = b"keep me"
    digest = sha(data)
    assert upload(bridge, data).status == 201
    for header in (
        None,
        blossom_auth(ALICE[0], "upload", [digest]),
        blossom_auth(ALICE[0], "delete", [sha(b"another blob")]),
        blossom_auth(ALICE[0], "delete"),
    ):
        reply = call(bridge.url, "DELETE", f"/{digest}", headers={"Authorization": header} if header else {})
        assert reply.status == 401
        assert reply.headers["X-Reason"]
    assert call(bridge.url, "GET", f"/{digest}").body == data


BAD_UPLOAD_AUTH: dict[str, tuple[Callable[[bytes], str], str]] = {
    "expired": (lambda d: blossom_auth(ALICE[0], "upload", [sha(d)], expires_in=-10), "expired"),
    "future": (lambda d: blossom_auth(ALICE[0], "upload", [sha(d)], created_at=int(time.time()) + 600), "future"),
    "wrong t": (lambda d: blossom_auth(ALICE[0], "get", [sha(d)]), "'t' tag"),
    "wrong x": (lambda d: blossom_auth(ALICE[0], "upload", [sha(b"other")]), "'x'"),
    "missing x": (lambda d: blossom_auth(ALICE[0], "upload"), "'x'"),
    "bad signature": (lambda d: blossom_auth(ALICE[0], "upload", [sha(d)], tamper=True), "signature"),
    "wrong kind": (lambda d: blossom_auth(ALICE[0], "upload", [sha(d)], kind=27235), "kind"),
    "garbage": (lambda d: "Nostr %%%garbage%%%", "base64"),
    "other scheme": (lambda d: "Bearer abc", "Nostr"),
}


@pytest.mark.parametrize("case", BAD_UPLOAD_AUTH)
def test_invalid_auth_events_are_rejected_with_a_reason(bridge: Bridge, case: str) -> None:
    data = f"rejected upload: {case}".encode()
    make_header, reason = BAD_UPLOAD_AUTH[case]
    reply = call(bridge.url, "PUT", "/upload", data, {"Authorization": make_header(data)})
    assert reply.status == 401
    assert reason in reply.headers["X-Reason"]
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert call(bridge.url, "HEAD", f"/{sha(data)}").status == 404


def test_upload_without_auth_is_401(bridge: Bridge) -> None:
    reply = call(bridge.url, "PUT", "/upload", b"anonymous", {"Content-Type": "text/plain"})
    assert reply.status == 401
    assert reply.headers["X-Reason"]


def test_upload_preflight(bridge: Bridge) -> None:
    digest = sha(b"to be uploaded")
    meta = {"X-SHA-256": digest, "X-Content-Type": "image/png"}
    missing_length = call(bridge.url, "HEAD", "/upload", headers=meta)
    assert missing_length.status == 411
    too_large = call(bridge.url, "HEAD", "/upload", headers={**meta, "X-Content-Length": str(LIMIT + 1)})
    assert too_large.status == 413
    assert too_large.headers["X-Reason"]
    ok_meta = {**meta, "X-Content-Length": "14"}
    no_auth = call(bridge.url, "HEAD", "/upload", headers=ok_meta)  # blossom-client-sdk asks first, signs after
    assert no_auth.status == 401
    assert no_auth.headers["X-Reason"]
    assert no_auth.headers["Access-Control-Allow-Origin"] == "*"
    ok = call(
        bridge.url, "HEAD", "/upload", headers={**ok_meta, "Authorization": blossom_auth(ALICE[0], "upload", [digest])}
    )
    assert ok.status == 200, ok.headers.get("X-Reason")
    other = call(
        bridge.url,
        "HEAD",
        "/upload",
        headers={**ok_meta, "Authorization": blossom_auth(ALICE[0], "upload", ["1" * 64])},
    )
    assert other.status == 401
    bad_hash = call(bridge.url, "HEAD", "/upload", headers={**ok_meta, "X-SHA-256": "xyz"})
    assert bad_hash.status == 400


def test_too_large_uploads_are_413_and_leave_no_file(bridge: Bridge) -> None:
    data = b"z" * (LIMIT + 1)
    declared = upload(bridge, data)  # Content-Length over the limit: refused before reading
    assert declared.status == 413
    assert declared.headers["X-Reason"]
    header = {"Authorization": blossom_auth(ALICE[0], "upload", [sha(data)]), "Content-Type": "text/plain"}
    streamed = call(bridge.url, "PUT", "/upload", (data[i : i + 10000] for i in range(0, len(data), 10000)), header)
    assert streamed.status == 413  # chunked, no length: cut off while streaming
    assert call(bridge.url, "HEAD", f"/{sha(data)}").status == 404
    assert sha(data) not in [p.name for p in stored_files(bridge)]
    assert list((bridge.blobs_dir / ".tmp").iterdir()) == []
    exactly = b"y" * LIMIT
    assert upload(bridge, exactly).status == 201


def test_a_body_that_is_not_the_signed_hash_is_rejected_and_not_stored(bridge: Bridge) -> None:
    signed, sent = b"what alice signed", b"what arrived instead"
    header = {"Authorization": blossom_auth(ALICE[0], "upload", [sha(signed)]), "Content-Type": "text/plain"}
    reply = call(bridge.url, "PUT", "/upload", sent, header)
    assert reply.status == 401
    assert reply.headers["X-Reason"]
    declared = call(bridge.url, "PUT", "/upload", sent, {**header, "X-SHA-256": sha(signed)})
    assert declared.status == 409
    assert declared.headers["X-Reason"]
    for digest in (sha(signed), sha(sent)):
        assert call(bridge.url, "HEAD", f"/{digest}").status == 404
        assert digest not in [p.name for p in stored_files(bridge)]
    assert list((bridge.blobs_dir / ".tmp").iterdir()) == []


@pytest.mark.parametrize("path", ["/upload", f"/{'cd' * 32}", f"/{'cd' * 32}.mp4", f"/list/{ALICE[1]}"])
def test_cors_preflight(bridge: Bridge, path: str) -> None:
    request = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}
    request["Access-Control-Request-Headers"] = "authorization,content-type"
    reply = call(bridge.url, "OPTIONS", path, headers=request)
    assert reply.status in (200, 204)
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]
    methods = {m.strip() for m in reply.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "HEAD", "PUT", "DELETE"} <= methods


def test_the_pwa_is_still_served(bridge: Bridge) -> None:
    index = call(bridge.app_url, "GET", "/")
    assert index.status == 200
    assert b"<html" in index.body.lower()
    assert "Access-Control-Allow-Origin" not in index.headers
    assert call(bridge.app_url, "GET", "/config.json").json() == {
        "relays": [],
        "trackers": [],
        "bridge": bridge.app_url,
        "bridge_media": bridge.url,
        "max_upload_bytes": LIMIT,
        "heartbeat_interval": 60.0,
        "ice_servers": [],
        "turn": False,
    }


def test_blobs_survive_a_restart(bridge: Bridge) -> None:
    data = b"still here after a restart"
    assert upload(bridge, data, BOB, content_type="text/plain").status == 201
    bridge.restart()
    got = call(bridge.url, "GET", f"/{sha(data)}.txt")
    assert (got.status, got.body, got.headers["Content-Type"]) == (200, data, "text/plain")
    assert sha(data) in [d["sha256"] for d in call(bridge.url, "GET", f"/list/{BOB[1]}").json()]
    assert upload(bridge, data, BOB).status == 200
