"""Resumable uploads to the Bridge (draft-ietf-httpbis-resumable-upload with Blossom auth, bridge/resumable.py):
against a real Bridge process (SIGKILLed and started again mid-upload, its memory read from /proc) and in-process
with a clock the test moves (expiry), over raw HTTP."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bridge.config import DEFAULT_MAX_UPLOAD_BYTES, BridgeConfig, parse_args
from bridge.resumable import UPLOADS_KEY
from devstack.services import Service, free_port, start_bridge
from tests.backends import BridgeBackend
from tests.bridge.client import Reply, blossom_auth, call, sha
from tests.bridge.inprocess import InProcessBridge
from tests.bridge.malformed_http import ServerErrors, assert_error, describe, send
from tests.unit.nostr_keys import keypair

ALICE = keypair(301)
BOB = keypair(302)
PROCESS_LIMIT = 512 * 1024 * 1024
INPROCESS_LIMIT = 1024 * 1024
TTL = 3600.0


def data_of(size: int, seed: int = 0) -> bytes:
    block = hashlib.sha256(f"block {seed}".encode()).digest() * 64  # 2 KiB
    return (block * (size // len(block) + 1))[:size]


def create(
    base: str,
    key: tuple[str, str],
    sha256: str,
    length: int,
    *,
    now: float | None = None,
    content_type: str = "video/mp4",
    extra: dict[str, str] | None = None,
) -> Reply:
    """An upload resource with no content yet (`Upload-Complete: ?0`, empty body: no interim response)."""
    headers = {
        "Authorization": blossom_auth(key[0], "upload", [sha256], now=now),
        "Upload-Complete": "?0",
        "Upload-Length": str(length),
        "X-SHA-256": sha256,
        "Content-Type": content_type,
        **(extra or {}),
    }
    return call(base, "PUT", "/upload", b"", headers)


def path_of(reply: Reply) -> str:
    assert reply.status == 201, describe(reply)
    return urlsplit(str(reply.headers["Location"])).path


def patch(
    base: str,
    path: str,
    key: tuple[str, str],
    sha256: str,
    offset: int,
    body: bytes | Iterator[bytes],
    *,
    complete: bool,
    now: float | None = None,
) -> Reply:
    headers = {
        "Authorization": blossom_auth(key[0], "upload", [sha256], now=now),
        "Content-Type": "application/partial-upload",
        "Upload-Offset": str(offset),
        "Upload-Complete": "?1" if complete else "?0",
    }
    return call(base, "PATCH", path, body, headers)


def head(base: str, path: str, key: tuple[str, str], sha256: str, now: float | None = None) -> Reply:
    return call(base, "HEAD", path, None, {"Authorization": blossom_auth(key[0], "upload", [sha256], now=now)})


def offset_of(reply: Reply) -> int:
    assert reply.status == 204, describe(reply)
    return int(reply.headers["Upload-Offset"])


def files_in(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


# ---------------------------------------------------------------------------------------------------------------
# A real Bridge process


@dataclass
class Process:
    data_dir: Path
    service: Service
    backend: BridgeBackend

    @property
    def url(self) -> str:
        return self.service.extra["media_url"]

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "bridge" / "uploads"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "bridge" / "blobs"

    def crash_and_restart(self) -> None:
        self.service.kill()  # SIGKILL: no clean shutdown
        self.service = start_process(self.data_dir, self.backend)


def start_process(data_dir: Path, backend: BridgeBackend) -> Service:
    extra = ("--max-upload-bytes", str(PROCESS_LIMIT), "--retention-interval", "0", *backend.args())
    return start_bridge(data_dir, free_port(), relays=[], trackers=[], extra_args=extra, env=backend.env)


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory, bridge_backend: BridgeBackend) -> Iterator[Process]:
    data_dir = tmp_path_factory.mktemp("resumable")
    running = Process(data_dir, start_process(data_dir, bridge_backend), bridge_backend)
    try:
        yield running
    finally:
        running.service.stop()


def test_an_upload_survives_a_sigkill_of_the_bridge_mid_append(process: Process) -> None:
    data = data_of(3 * 1024 * 1024 + 123, seed=1)
    x = sha(data)
    path = path_of(create(process.url, ALICE, x, len(data)))
    half = len(data) // 2
    first = patch(process.url, path, ALICE, x, 0, data[:half], complete=False)
    assert first.status == 204, describe(first)
    assert first.headers["Upload-Offset"] == str(half)
    assert first.headers["Upload-Complete"] == "?0"

    # the next append is under way when the Bridge dies: some of its bytes arrived, the rest never will
    sent_some = threading.Event()
    never = threading.Event()

    def stalled() -> Iterator[bytes]:
        yield data[half : half + 256 * 1024]
        sent_some.set()
        never.wait(30)

    result: list[Reply | OSError] = []
    thread = threading.Thread(
        target=lambda: result.append(
            _quietly(lambda: patch(process.url, path, ALICE, x, half, stalled(), complete=False))
        )
    )
    thread.start()
    assert sent_some.wait(20)
    process.crash_and_restart()
    never.set()
    thread.join(30)

    offset = offset_of(head(process.url, path, ALICE, x))
    assert half <= offset <= half + 256 * 1024
    rest = patch(process.url, path, ALICE, x, offset, data[offset:], complete=True)
    assert rest.status == 201, describe(rest)
    assert rest.headers["Upload-Complete"] == "?1"
    descriptor = rest.json()
    assert (descriptor["sha256"], descriptor["size"], descriptor["type"]) == (x, len(data), "video/mp4")
    got = call(process.url, "GET", f"/{x}")
    assert got.status == 200
    assert hashlib.sha256(got.body).hexdigest() == x
    assert not files_in(process.uploads_dir)  # the part file became the blob
    done = head(process.url, path, ALICE, x)  # kept a while as complete, for a client that missed the answer
    assert (done.status, done.headers["Upload-Complete"], done.headers["Upload-Offset"]) == (204, "?1", str(len(data)))


def _quietly(fn: Callable[[], Reply]) -> Reply | OSError:
    """The reply, or the error of a request whose server died under it."""
    try:
        return fn()
    except OSError as exc:
        return exc


def raw_exchange(
    url: str, head_lines: list[str], body: bytes, *, send: int | None = None
) -> list[tuple[int, dict[str, str], bytes]]:
    """Send a request over a raw socket (http.client takes a 1xx for the final answer) and read every response:
    interim ones first. `send`: send only that many bytes of the body, then hang up after the first interim."""
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    sock = socket.create_connection((parts.hostname, parts.port), timeout=20)
    responses: list[tuple[int, dict[str, str], bytes]] = []
    buffer = b""

    def read_head() -> tuple[int, dict[str, str]]:
        nonlocal buffer
        while b"\r\n\r\n" not in buffer:
            more = sock.recv(65536)
            if not more:
                raise ConnectionError(f"closed after {buffer!r}")
            buffer += more
        raw, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(lines[0].split()[1]), headers

    try:
        request = "\r\n".join([*head_lines, f"Content-Length: {len(body)}", "", ""]).encode()
        sock.sendall(request + body[: len(body) if send is None else send])
        while True:
            status, headers = read_head()
            if 100 <= status < 200:
                responses.append((status, headers, b""))
                if send is not None:
                    return responses
                continue
            length = int(headers.get("content-length", "0"))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            responses.append((status, headers, buffer[:length]))
            return responses
    finally:
        sock.close()


def creation_head(url: str, key: tuple[str, str], x: str, length: int) -> list[str]:
    host = urlsplit(url).netloc
    authorization = blossom_auth(key[0], "upload", [x])
    return [
        "PUT /upload HTTP/1.1",
        f"Host: {host}",
        f"Authorization: {authorization}",
        "Upload-Complete: ?1",
        f"Upload-Length: {length}",
        f"X-SHA-256: {x}",
        "Content-Type: image/png",
    ]


def test_a_whole_upload_in_one_request_gets_the_interim_location_and_the_descriptor(process: Process) -> None:
    data = data_of(200_000, seed=2)
    x = sha(data)
    responses = raw_exchange(process.url, creation_head(process.url, ALICE, x, len(data)), data)
    (interim, interim_headers, _), (final, final_headers, body) = responses
    assert interim == 104
    assert urlsplit(interim_headers["location"]).path.startswith("/upload/")
    assert "max-size=" in interim_headers["upload-limit"]
    assert final == 201, body
    assert final_headers["upload-complete"] == "?1"
    assert f'"sha256": "{x}"' in body.decode()
    assert call(process.url, "GET", f"/{x}").body == data


def test_an_upload_cut_off_in_its_first_request_resumes_from_the_servers_offset(process: Process) -> None:
    data = data_of(2 * 1024 * 1024, seed=3)
    x = sha(data)
    responses = raw_exchange(process.url, creation_head(process.url, ALICE, x, len(data)), data, send=len(data) // 2)
    path = urlsplit(responses[0][1]["location"]).path
    offset = offset_of(head(process.url, path, ALICE, x))  # ends the cut-off request first, keeping its bytes
    assert 0 <= offset <= len(data) // 2
    rest = patch(process.url, path, ALICE, x, offset, data[offset:], complete=True)
    assert rest.status == 201, describe(rest)
    assert call(process.url, "GET", f"/{x}").body == data


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.slow
def test_300_mb_stream_through_with_the_bridges_memory_bounded(process: Process) -> None:
    size = 300 * 1024 * 1024
    block = data_of(1024 * 1024, seed=4)

    def blocks() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    digest = hashlib.sha256()
    for piece in blocks():
        digest.update(piece)
    x = digest.hexdigest()
    pid = process.service.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak RSS starts again from now
    before = vm_kib(pid, "VmRSS")
    path = path_of(create(process.url, ALICE, x, size))
    # in two appends, so that the second continues a hash made by the first
    first = patch(process.url, path, ALICE, x, 0, (b for i, b in enumerate(blocks()) if i < 100), complete=False)
    assert offset_of(first) == 100 * len(block)
    rest = patch(
        process.url, path, ALICE, x, 100 * len(block), (b for i, b in enumerate(blocks()) if i >= 100), complete=True
    )
    assert rest.status == 201, describe(rest)
    peak = vm_kib(pid, "VmHWM")
    added_mib = (peak - before) / 1024
    assert added_mib < 64, f"the Bridge's peak RSS rose {added_mib:.0f} MiB for a 300 MiB upload"
    stored = process.blobs_dir / x[:2] / x
    assert stored.stat().st_size == size
    os.unlink(stored)  # 300 MB less on the test machine's disk


# ---------------------------------------------------------------------------------------------------------------
# In process, with a clock the test moves


@dataclass
class Local:
    running: InProcessBridge
    errors: ServerErrors

    @property
    def url(self) -> str:
        return self.running.media_url

    @property
    def port(self) -> int:
        return self.running.config.media_port

    @property
    def uploads_dir(self) -> Path:
        return self.running.config.data_dir / "uploads"

    @property
    def blobs_dir(self) -> Path:
        return self.running.config.data_dir / "blobs"

    def now(self) -> float:
        return self.running.clock()

    def sweep(self) -> int:
        assert self.running.app is not None
        return self.running.call(self.running.app[UPLOADS_KEY].sweep())


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    config = BridgeConfig(
        data_dir=tmp_path_factory.mktemp("resumable-local") / "bridge",
        retention_interval=0,
        max_upload_bytes=INPROCESS_LIMIT,
        upload_ttl=TTL,
    )
    errors = ServerErrors()
    logging.getLogger().addHandler(errors)
    try:
        with InProcessBridge(config) as running:
            yield Local(running, errors)
    finally:
        logging.getLogger().removeHandler(errors)


def test_a_patch_at_the_wrong_offset_gets_409_and_the_right_offset(local: Local) -> None:
    data = data_of(10_000, seed=10)
    x = sha(data)
    path = path_of(create(local.url, ALICE, x, len(data), now=local.now()))
    assert patch(local.url, path, ALICE, x, 0, data[:4000], complete=False, now=local.now()).status == 204
    for wrong in (0, 3999, 4001):
        reply = patch(local.url, path, ALICE, x, wrong, data[wrong:], complete=True, now=local.now())
        assert_error(reply, "PATCH", (409,))
        assert reply.headers["Upload-Offset"] == "4000"
    assert offset_of(head(local.url, path, ALICE, x, local.now())) == 4000  # nothing was appended
    assert patch(local.url, path, ALICE, x, 4000, data[4000:], complete=True, now=local.now()).status == 201


def test_bytes_that_do_not_match_the_declared_sha256_are_refused_and_leave_no_file(local: Local) -> None:
    declared = data_of(50_000, seed=11)
    sent = data_of(50_000, seed=12)
    x = sha(declared)
    path = path_of(create(local.url, ALICE, x, len(declared), now=local.now()))
    assert patch(local.url, path, ALICE, x, 0, sent[:20_000], complete=False, now=local.now()).status == 204
    reply = patch(local.url, path, ALICE, x, 20_000, sent[20_000:], complete=True, now=local.now())
    assert_error(reply, "PATCH", (422,))
    assert reply.headers["Upload-Complete"] == "?1"
    assert sha(sent) in reply.reason and x in reply.reason
    assert not any(upload_id in p.name for p in files_in(local.uploads_dir) for upload_id in [path.rsplit("/", 1)[1]])
    assert not any(p.name in (x, sha(sent)) for p in files_in(local.blobs_dir))
    assert call(local.url, "GET", f"/{x}").status == 404
    assert_error(head(local.url, path, ALICE, x, local.now()), "HEAD", (404,))


def test_an_abandoned_upload_expires_and_leaves_no_file(local: Local) -> None:
    data = data_of(30_000, seed=13)
    x = sha(data)
    path = path_of(create(local.url, ALICE, x, len(data), now=local.now()))
    assert patch(local.url, path, ALICE, x, 0, data[:10_000], complete=False, now=local.now()).status == 204
    part = local.uploads_dir / (path.rsplit("/", 1)[1] + ".part")
    assert part.stat().st_size == 10_000
    local.running.clock.advance(TTL / 2)  # an append moves the expiry: this one is not abandoned yet
    assert patch(local.url, path, ALICE, x, 10_000, data[10_000:20_000], complete=False, now=local.now()).status == 204
    local.running.clock.advance(TTL / 2 + 60)
    local.sweep()
    assert part.exists()
    assert offset_of(head(local.url, path, ALICE, x, local.now())) == 20_000
    local.running.clock.advance(TTL)
    assert local.sweep() >= 1
    assert not part.exists()
    assert_error(head(local.url, path, ALICE, x, local.now()), "HEAD", (404,))


def test_an_expired_upload_is_refused_before_any_sweep(local: Local) -> None:
    data = data_of(1000, seed=14)
    x = sha(data)
    path = path_of(create(local.url, ALICE, x, len(data), now=local.now()))
    part = local.uploads_dir / (path.rsplit("/", 1)[1] + ".part")
    local.running.clock.advance(TTL + 1)
    assert_error(patch(local.url, path, ALICE, x, 0, data, complete=True, now=local.now()), "PATCH", (404,))
    assert not part.exists()


def test_only_the_uploads_creator_may_append_see_or_cancel_it(local: Local) -> None:
    data = data_of(8000, seed=15)
    x = sha(data)
    path = path_of(create(local.url, ALICE, x, len(data), now=local.now()))
    assert patch(local.url, path, ALICE, x, 0, data[:1000], complete=False, now=local.now()).status == 204
    assert_error(patch(local.url, path, BOB, x, 1000, data[1000:], complete=True, now=local.now()), "PATCH", (403,))
    assert_error(head(local.url, path, BOB, x, local.now()), "HEAD", (403,))
    bob_delete = call(
        local.url, "DELETE", path, None, {"Authorization": blossom_auth(BOB[0], "upload", [x], now=local.now())}
    )
    assert_error(bob_delete, "DELETE", (403,))
    assert_error(call(local.url, "HEAD", path), "HEAD", (401,))  # no auth at all
    assert offset_of(head(local.url, path, ALICE, x, local.now())) == 1000
    cancelled = call(
        local.url, "DELETE", path, None, {"Authorization": blossom_auth(ALICE[0], "upload", [x], now=local.now())}
    )
    assert cancelled.status == 204
    assert not (local.uploads_dir / (path.rsplit("/", 1)[1] + ".part")).exists()
    assert_error(head(local.url, path, ALICE, x, local.now()), "HEAD", (404,))


def test_the_upload_url_is_unguessable(local: Local) -> None:
    x = sha(b"a")
    names = {path_of(create(local.url, ALICE, x, 1, now=local.now())).rsplit("/", 1)[1] for _ in range(3)}
    assert len(names) == 3
    assert all(len(name) >= 43 for name in names)  # 256 random bits, URL-safe base64
    for name in names:
        assert (
            call(
                local.url,
                "DELETE",
                f"/upload/{name}",
                None,
                {"Authorization": blossom_auth(ALICE[0], "upload", [x], now=local.now())},
            ).status
            == 204
        )


def test_too_large_is_refused_up_front_and_mid_way(local: Local) -> None:
    x = sha(b"big")
    reply = create(local.url, ALICE, x, INPROCESS_LIMIT + 1, now=local.now())
    assert_error(reply, "PUT", (413,))
    assert reply.headers["Upload-Limit"].startswith(f"max-size={INPROCESS_LIMIT}")
    # a chunked append (no Content-Length) that runs past the declared length: refused as it goes, upload deleted
    data = data_of(5000, seed=16)
    path = path_of(create(local.url, ALICE, sha(data), len(data), now=local.now()))
    over = patch(local.url, path, ALICE, sha(data), 0, iter([data, b"more"]), complete=True, now=local.now())
    assert_error(over, "PATCH", (400,))
    assert not (local.uploads_dir / (path.rsplit("/", 1)[1] + ".part")).exists()
    # a plain PUT over the limit, as before
    plain = call(
        local.url,
        "PUT",
        "/upload",
        b"x" * (INPROCESS_LIMIT + 1),
        {"Authorization": blossom_auth(ALICE[0], "upload", [sha(b"x" * (INPROCESS_LIMIT + 1))], now=local.now())},
    )
    assert_error(plain, "PUT", (413,))


def test_options_announce_resumable_uploads(local: Local) -> None:
    reply = call(local.url, "OPTIONS", "/upload")
    assert reply.status == 204
    assert "application/partial-upload" in reply.headers["Accept-Patch"]
    assert reply.headers["Upload-Limit"] == f"max-size={INPROCESS_LIMIT}"
    assert "PATCH" in reply.headers["Access-Control-Allow-Methods"]


def test_plain_bud02_put_still_works(local: Local) -> None:
    data = data_of(3000, seed=17)
    headers = {
        "Authorization": blossom_auth(ALICE[0], "upload", [sha(data)], now=local.now()),
        "Content-Type": "image/png",
    }
    reply = call(local.url, "PUT", "/upload", data, headers)
    assert reply.status == 201, describe(reply)
    assert reply.json()["sha256"] == sha(data)
    assert "Upload-Complete" not in reply.headers and "Location" not in reply.headers
    # an Upload-Complete that is not a Structured Boolean is ignored (the draft): a plain upload again
    other = data_of(3001, seed=18)
    odd = {"Authorization": blossom_auth(ALICE[0], "upload", [sha(other)], now=local.now()), "Upload-Complete": "yes"}
    assert call(local.url, "PUT", "/upload", other, odd).status == 201


def test_the_limit_is_an_option_served_in_config_json() -> None:
    assert DEFAULT_MAX_UPLOAD_BYTES >= 4 * 1024**3
    assert parse_args([]).max_upload_bytes == DEFAULT_MAX_UPLOAD_BYTES
    config = parse_args(["--max-upload-bytes", "12345", "--upload-expiry-hours", "2"])
    assert config.client_config()["max_upload_bytes"] == 12345
    assert config.upload_ttl == 7200


def test_malformed_requests_never_get_a_5xx(local: Local) -> None:
    data = data_of(2000, seed=19)
    x = sha(data)
    path = path_of(create(local.url, ALICE, x, len(data), now=local.now()))
    good = blossom_auth(ALICE[0], "upload", [x], now=local.now()).encode()
    partial = ("Content-Type", b"application/partial-upload")
    cases: list[tuple[str, str, list[tuple[str, bytes]], bytes | None, tuple[int, ...]]] = []
    for offset in (b"-1", b"abc", b"1.5", b"9" * 16, b"", b"0, 0", b"\xff"):
        headers = [("Authorization", good), partial, ("Upload-Offset", offset), ("Upload-Complete", b"?0")]
        cases.append(("PATCH", path, headers, b"abc", (400,)))
    twice = [
        ("Authorization", good),
        partial,
        ("Upload-Offset", b"0"),
        ("Upload-Offset", b"0"),
        ("Upload-Complete", b"?0"),
    ]
    cases.append(("PATCH", path, twice, b"abc", (400,)))
    for complete in (b"yes", b"1", b"", b"?2"):
        headers = [("Authorization", good), partial, ("Upload-Offset", b"0"), ("Upload-Complete", complete)]
        cases.append(("PATCH", path, headers, b"abc", (400,)))
    no_type = [("Authorization", good), ("Upload-Offset", b"0"), ("Upload-Complete", b"?0")]
    cases.append(("PATCH", path, no_type, b"abc", (415,)))
    past = [("Authorization", good), partial, ("Upload-Offset", b"0"), ("Upload-Complete", b"?0")]
    cases.append(("PATCH", path, past, b"x" * 5000, (400,)))
    short = [("Authorization", good), partial, ("Upload-Offset", b"0"), ("Upload-Complete", b"?1")]
    cases.append(("PATCH", path, short, b"x" * 10, (400,)))
    length = [
        ("Authorization", good),
        partial,
        ("Upload-Offset", b"0"),
        ("Upload-Complete", b"?0"),
        ("Upload-Length", b"7"),
    ]
    cases.append(("PATCH", path, length, b"x", (400,)))
    for name in ("A" * 43, "x", "A" * 500, "..%2F..%2Fetc", "%00"):
        headers = [("Authorization", good), partial, ("Upload-Offset", b"0"), ("Upload-Complete", b"?0")]
        cases.append(("PATCH", f"/upload/{name}", headers, b"a", (404,)))
        cases.append(("HEAD", f"/upload/{name}", [("Authorization", good)], None, (404,)))
        cases.append(("DELETE", f"/upload/{name}", [("Authorization", good)], None, (404,)))
    cases.append(("PATCH", path, [partial, ("Upload-Offset", b"0"), ("Upload-Complete", b"?0")], b"a", (401,)))
    cases.append(("HEAD", path, [("Authorization", b"Nostr \xc3\xa9")], None, (401,)))
    other = blossom_auth(ALICE[0], "upload", [sha(b"other")], now=local.now()).encode()  # not this upload's x
    cases.append(("HEAD", path, [("Authorization", other)], None, (401,)))
    wrong_verb = blossom_auth(ALICE[0], "delete", [x], now=local.now()).encode()
    cases.append(("DELETE", path, [("Authorization", wrong_verb)], None, (401,)))
    base = [("Authorization", good), ("Upload-Complete", b"?0"), ("X-SHA-256", x.encode())]
    for upload_length in (b"-5", b"abc", b"", b"9" * 16):
        cases.append(("PUT", "/upload", [*base, ("Upload-Length", upload_length)], b"", (400,)))
    cases.append(("PUT", "/upload", [*base[:2], ("X-SHA-256", b"ZZ"), ("Upload-Length", b"5")], b"", (400,)))
    no_x = blossom_auth(ALICE[0], "upload", [], now=local.now()).encode()
    cases.append(
        ("PUT", "/upload", [("Authorization", no_x), ("Upload-Complete", b"?0"), ("Upload-Length", b"5")], b"", (400,))
    )
    mismatch = [("Authorization", good), ("Upload-Complete", b"?1"), ("X-SHA-256", x.encode()), ("Upload-Length", b"5")]
    cases.append(("PUT", "/upload", mismatch, b"abc", (400,)))
    cases.append(("PUT", "/upload", [("Upload-Complete", b"?0"), ("Upload-Length", b"5")], b"", (401,)))
    for method, target, headers, body, statuses in cases:
        mark = len(local.errors.records)
        reply = send(local.port, method, target, headers, body)
        assert_error(reply, method, statuses, local.errors.since(mark))
        assert not local.errors.since(mark), f"{method} {target} {headers}: {local.errors.since(mark)}"
    # none of it moved the upload
    assert offset_of(head(local.url, path, ALICE, x, local.now())) == 0


def test_a_request_to_an_upload_ends_an_append_still_running_on_it(local: Local) -> None:
    # a phone lost its connection mid-append; the Bridge still waits on the old request when the phone comes back
    data = data_of(600_000, seed=20)
    x = sha(data)
    path = path_of(create(local.url, ALICE, x, len(data), now=local.now()))
    sent_some, never = threading.Event(), threading.Event()

    def stalled() -> Iterator[bytes]:
        yield data[:300_000]
        sent_some.set()
        never.wait(30)

    mark = len(local.errors.records)
    result: list[Reply | OSError] = []
    old = threading.Thread(
        target=lambda: result.append(
            _quietly(lambda: patch(local.url, path, ALICE, x, 0, stalled(), complete=False, now=local.now()))
        )
    )
    old.start()
    try:
        assert sent_some.wait(20)
        offset = offset_of(head(local.url, path, ALICE, x, local.now()))  # answered, not stuck behind the old one
        assert 0 <= offset <= 300_000
        rest = patch(local.url, path, ALICE, x, offset, data[offset:], complete=True, now=local.now())
        assert rest.status == 201, describe(rest)
    finally:
        never.set()
        old.join(30)
    assert call(local.url, "GET", f"/{x}").body == data
    assert not local.errors.since(mark)
