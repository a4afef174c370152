"""Malformed input never makes the Bridge answer 5xx, and every error it gives has one shape.

The contract: a 4xx from any of the Bridge's endpoints is `{"error": "<reason>"}` (application/json) with the same
reason in `X-Reason`; no request, however malformed, gets a 5xx. First one regression test per known attack, then
property-based tests (Hypothesis) of every endpoint over real HTTP against one in-process Bridge.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import string
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st
from libtorrent import bencode

from bridge.config import BridgeConfig
from bridge.torrent import build_info
from tests.bridge.client import Reply, blossom_auth, sha
from tests.bridge.inprocess import InProcessBridge
from tests.bridge.malformed_http import (
    ClientRefused,
    ServerErrors,
    assert_error,
    describe,
    error_shape_problem,
    http_auth,
    is_api_path,
    is_blossom_path,
    send,
)
from tests.unit.nostr_keys import keypair

UPLOADER = keypair(901)
FUZZER = keypair(902)
BLOB = bytes(range(10))  # 10 bytes, uploaded once: the Range tests and the fuzzer's "existing blob"
NESTED = b"[" * 3000  # json.loads: RecursionError (not a ValueError) beyond ~1000 levels


@dataclass
class Bridge:
    running: InProcessBridge
    errors: ServerErrors

    def port(self, origin: str) -> int:
        return self.running.config.media_port if origin == "media" else self.running.config.port

    @property
    def url(self) -> str:
        return self.running.url

    def now(self) -> float:
        return self.running.clock()

    def send(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, bytes]] | None = None,
        body: bytes | None = None,
        origin: str = "",
    ) -> tuple[Reply, str]:
        """The reply, and the exceptions the Bridge logged while answering (type, message, line). `origin`: "app"
        or "media" (the blobs' own); by default the one that serves `path`."""
        origin = origin or ("media" if is_blossom_path(path) else "app")
        mark = len(self.errors.records)
        try:
            reply = send(self.port(origin), method, path, headers, body)
        except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            # e.g. a reason with a control character: aiohttp refuses to write the header and drops the connection
            log = self.errors.since(mark)
            raise AssertionError(f"{method} {path[:200]!r}: no answer ({exc!r})\n  Bridge log: {log}") from None
        return reply, self.errors.since(mark)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    config = BridgeConfig(
        data_dir=tmp_path_factory.mktemp("malformed") / "bridge",
        retention_interval=0,
        max_upload_bytes=64 * 1024,
        # no rate limits: the fuzzer's signed heartbeats must reach the body's parsing, not a 429
        heartbeat_per_key_per_minute=0,
        heartbeat_per_address_per_minute=0,
        # POST /api/turn is a real endpoint here (no TURN server behind it: its credentials are never used)
        turn=("turn:127.0.0.1:3478?transport=udp",),
        turn_secret="malformed-input",
        turn_per_key_per_minute=0,
        turn_per_address_per_minute=0,
    )
    errors = ServerErrors()
    logging.getLogger().addHandler(errors)
    try:
        with InProcessBridge(config) as running:
            bridge = Bridge(running, errors)
            auth = blossom_auth(UPLOADER[0], "upload", [sha(BLOB)], now=bridge.now()).encode()
            reply, _ = bridge.send(
                "PUT", "/upload", [("Authorization", auth), ("Content-Type", b"application/octet-stream")], BLOB
            )
            assert reply.status in (200, 201), describe(reply)
            yield bridge
    finally:
        logging.getLogger().removeHandler(errors)


BLOB_PATH = f"/{sha(BLOB)}"


# ---------------------------------------------------------------------------------------------------------------
# Regression tests: one per known attack


def nested_auth() -> bytes:
    return b"Nostr " + base64.b64encode(NESTED)


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("POST", "/api/ping", []),
        ("POST", "/api/heartbeat", []),
        ("PUT", "/upload", []),
        # the preflight checks the length and the hash before the Authorization header
        ("HEAD", "/upload", [("X-Content-Length", b"10"), ("X-SHA-256", sha(BLOB).encode())]),
        ("DELETE", BLOB_PATH, []),
    ],
    ids=["ping", "heartbeat", "upload", "upload-preflight", "delete"],
)
def test_deeply_nested_json_in_the_authorization_header(
    bridge: Bridge, method: str, path: str, extra: list[tuple[str, bytes]]
) -> None:
    reply, log = bridge.send(method, path, [("Authorization", nested_auth()), *extra], b"{}")
    assert_error(reply, method, (400, 401), log)


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/ping"), ("POST", "/api/heartbeat"), ("POST", "/api/turn"), ("PUT", "/upload")]
)
def test_an_authorization_header_that_is_not_ascii(bridge: Bridge, method: str, path: str) -> None:
    # base64 of text that is not ASCII: a ValueError, not the binascii.Error that was caught (a 500)
    reply, log = bridge.send(method, path, [("Authorization", "Nostr éé".encode())], b"{}")
    assert_error(reply, method, (401,), log)


@pytest.mark.parametrize("path", ["/api/ping", "/api/heartbeat"])
def test_deeply_nested_json_as_a_signed_body(bridge: Bridge, path: str) -> None:
    # correctly signed (NIP-98, payload tag), so the request gets past the auth check to the JSON parsing
    auth = http_auth(FUZZER[0], bridge.url + path, "POST", hashlib.sha256(NESTED).hexdigest(), bridge.now())
    reply, log = bridge.send("POST", path, [("Authorization", auth), ("Content-Type", b"application/json")], NESTED)
    assert_error(reply, "POST", (400,), log)


@pytest.mark.parametrize(
    "length",
    ["²", "٣"],  # str.isdigit() accepts both; int("²") raises, int("٣") is 3: neither is HTTP's 1*DIGIT
    ids=["superscript-two", "arabic-indic-three"],
)
def test_upload_preflight_with_a_non_ascii_digit_length(bridge: Bridge, length: str) -> None:
    # everything else valid (signed), so the length alone must make it a 400
    headers = [
        ("X-Content-Length", length.encode()),  # UTF-8 bytes on the wire, as a client would send them
        ("X-SHA-256", sha(BLOB).encode()),
        ("Authorization", blossom_auth(UPLOADER[0], "upload", [sha(BLOB)], now=bridge.now()).encode()),
    ]
    reply, log = bridge.send("HEAD", "/upload", headers)
    assert_error(reply, "HEAD", (400,), log)


def test_upload_preflight_with_a_5000_digit_length(bridge: Bridge) -> None:
    # isdigit(), but int() refuses more than 4300 digits (sys.get_int_max_str_digits)
    headers = [("X-Content-Length", b"1" * 5000), ("X-SHA-256", sha(BLOB).encode())]
    reply, log = bridge.send("HEAD", "/upload", headers)
    assert_error(reply, "HEAD", (400, 413), log)


def test_blossom_auth_with_a_control_character_in_its_verb(bridge: Bridge) -> None:
    # the reason quotes the event's t tags as they are; aiohttp will not write a control character in X-Reason
    auth = blossom_auth(UPLOADER[0], "\x01", [sha(BLOB)], now=bridge.now()).encode()
    reply, log = bridge.send("PUT", "/upload", [("Authorization", auth)], BLOB)
    assert_error(reply, "PUT", (401,), log)


def signed_ping(bridge: Bridge, url: str, trackers: list[str]) -> tuple[Reply, str]:
    """A ping signed for its body whose torrent is its magnet's, so that the Bridge checks the trackers and url."""
    magnet = f"magnet:?xt=urn:btih:{TORRENT.info_hash}" + "".join(f"&tr={quote(t, safe='')}" for t in trackers)
    body = json.dumps({"url": url, "magnet": magnet, "torrent": b64(TORRENT.info_bytes)}).encode()
    auth = http_auth(FUZZER[0], bridge.url + "/api/ping", "POST", hashlib.sha256(body).hexdigest(), bridge.now())
    return bridge.send("POST", "/api/ping", [("Authorization", auth), ("Content-Type", b"application/json")], body)


@pytest.mark.parametrize(
    "url",
    ["http://[::1", "http://[zz]/", "http://" + "a" * 70 + "/", "http://127.0.0.1\x00x/"],
    ids=["unclosed-ipv6", "bad-ipv6", "label-too-long", "nul-in-host"],
)
def test_ping_with_a_malformed_media_url(bridge: Bridge, url: str) -> None:
    reply, log = signed_ping(bridge, url, [])
    assert_error(reply, "POST", (400, 403, 422), log)


@pytest.mark.parametrize(
    "tracker", ["ws://[::1", "wss://" + "a" * 70, "wss://.."], ids=["unclosed-ipv6", "label-too-long", "empty-labels"]
)
def test_ping_with_a_malformed_tracker_in_its_magnet(bridge: Bridge, tracker: str) -> None:
    # a magnet's trackers the Bridge cannot use are skipped; the private url is then refused (403)
    reply, log = signed_ping(bridge, "http://10.0.0.1/clip.mp4", [tracker])
    assert_error(reply, "POST", (403,), log)


@pytest.mark.parametrize(
    "info",
    [
        {b"length": 0, b"name": b"empty.mp4", b"piece length": 16384, b"pieces": hashlib.sha1(b"").digest()},
        {b"length": 10, b"name": b"x.mp4", b"piece length": 2**40, b"pieces": hashlib.sha1(BLOB).digest()},
    ],
    ids=["empty-file", "piece-length-past-libtorrents-limit"],
)
def test_ping_with_a_torrent_libtorrent_cannot_seed(bridge: Bridge, info: dict[bytes, object]) -> None:
    # our parser took these and libtorrent refused them when seeding: a 500, and the status said "seeding"
    info_bytes = bytes(bencode(info))  # type: ignore[arg-type]  # the stubs' _Entry is narrower than bencode
    info_hash = hashlib.sha1(info_bytes).hexdigest()
    magnet = f"magnet:?xt=urn:btih:{info_hash}"
    payload = {"url": bridge.running.media_url + BLOB_PATH, "magnet": magnet, "torrent": b64(info_bytes)}
    body = json.dumps(payload).encode()
    auth = http_auth(FUZZER[0], bridge.url + "/api/ping", "POST", hashlib.sha256(body).hexdigest(), bridge.now())
    headers = [("Authorization", auth), ("Content-Type", b"application/json")]
    reply, log = bridge.send("POST", "/api/ping", headers, body)
    assert_error(reply, "POST", (400,), log)
    status, _ = bridge.send("GET", f"/api/torrents/{info_hash}")
    assert status.status == 404  # nothing recorded as seeding


@pytest.mark.parametrize("param", ["limit", "since", "until"])
def test_list_with_an_integer_too_large_for_sqlite(bridge: Bridge, param: str) -> None:
    reply, log = bridge.send("GET", f"/list/{UPLOADER[1]}?{param}=99999999999999999999")
    assert_error(reply, "GET", (400,), log)


def test_blob_path_with_a_5000_character_extension(bridge: Bridge) -> None:
    # too long for the Blossom route's extension, so it falls to the static files: ENAMETOOLONG
    reply, log = bridge.send("GET", f"{BLOB_PATH}.{'a' * 5000}")
    assert_error(reply, "GET", (404, 414), log)


def test_a_300_character_path(bridge: Bridge) -> None:
    reply, log = bridge.send("GET", "/" + "b" * 300)  # a file name longer than the filesystem's 255
    assert_error(reply, "GET", (404, 414), log)


def test_range_of_the_last_zero_bytes_is_unsatisfiable(bridge: Bridge) -> None:
    # RFC 9110 14.1.1: a suffix-length of 0 is unsatisfiable (today: 206 with the whole file)
    reply, log = bridge.send("GET", BLOB_PATH, [("Range", b"bytes=-0")])
    assert_error(reply, "GET", (416,), log)
    assert reply.headers.get("Content-Range") == f"bytes */{len(BLOB)}"


def test_range_ending_before_it_starts(bridge: Bridge) -> None:
    # RFC 9110 14.2: an invalid range may be ignored (200, the whole blob) or refused (416)
    reply, log = bridge.send("GET", BLOB_PATH, [("Range", b"bytes=5-2")])
    if reply.status == 200:
        assert reply.body == BLOB
    else:
        assert_error(reply, "GET", (416,), log)
        assert reply.headers.get("Content-Range") == f"bytes */{len(BLOB)}"


@pytest.mark.parametrize("tail", [b"\xc2\x85", b"\xc2\xa0"], ids=["next-line", "no-break-space"])
def test_range_with_a_unicode_space_is_ignored_not_refused_by_aiohttp(bridge: Bridge, tail: bytes) -> None:
    # str.strip() took these for spaces, aiohttp's parser does not: it answered 416 itself, in no error shape
    reply, log = bridge.send("GET", BLOB_PATH, [("Range", b"bytes=0-1" + tail)])
    assert (reply.status, reply.body, log) == (200, BLOB, "")


def test_range_of_the_first_byte(bridge: Bridge) -> None:
    reply, _ = bridge.send("GET", BLOB_PATH, [("Range", b"bytes=0-0")])
    assert (reply.status, reply.body, reply.headers.get("Content-Range")) == (206, BLOB[:1], f"bytes 0-0/{len(BLOB)}")


def test_range_of_the_last_three_bytes(bridge: Bridge) -> None:
    reply, _ = bridge.send("GET", BLOB_PATH, [("Range", b"bytes=-3")])
    assert (reply.status, reply.body, reply.headers.get("Content-Range")) == (206, BLOB[-3:], f"bytes 7-9/{len(BLOB)}")


# ---------------------------------------------------------------------------------------------------------------
# Property-based tests: strategies

HEX = "0123456789abcdef"
BODY_SHA = "<sha256 of the body>"  # in a signed event's x tags: replaced when the request is sent
PATH_SHA = "<sha256 in the path>"

hex64 = st.text(HEX, min_size=64, max_size=64)
# text that can go in a header value or an event (no control characters, no lone surrogates)
odd_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
# text inside a signed event (JSON escapes it): control characters too
event_text = st.text(st.characters(codec="utf-8"), max_size=40)
# str.isdigit() or int() accept some of these; HTTP and the Bridge want ASCII digits only
unicode_digits = st.sampled_from(
    ["²", "٣", "๓", "①", "½", "Ⅻ", "\N{MATHEMATICAL BOLD DIGIT NINE}", "¹⁰", "\uff11\uff12"]
)
huge_numbers = st.sampled_from(
    ["99999999999999999999", str(2**63), str(2**64), "1" + "0" * 400, "1" * 5000, "-1", "1e999", "-0", "0x10", "1.5"]
)
number_like = st.one_of(st.integers(-(10**30), 10**30).map(str), huge_numbers, unicode_digits, st.just(""), odd_text)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A valid-looking value, sometimes slightly wrong: upper case, a character more or less, one replaced."""
    value = draw(base)
    how = draw(st.sampled_from(["as is", "upper", "shorter", "longer", "replaced"]))
    if how == "upper":
        return value.upper()
    if how == "shorter":
        return value[:-1]
    if how == "longer":
        return value + draw(st.sampled_from(["0", "g", ".", "/", "%", "ß"]))
    if how == "replaced" and value:
        i = draw(st.integers(0, len(value) - 1))
        return value[:i] + draw(st.characters(blacklist_categories=("Cs", "Cc"))) + value[i + 1 :]
    return value


def percent(text: str) -> str:
    return quote(text, safe="")


# a path segment: route shapes, near misses, long names, odd characters percent-encoded, broken escapes
segment = st.one_of(
    hex64,
    mutated(hex64).map(percent),
    st.text(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%", max_size=30),
    odd_text.map(percent),
    st.integers(250, 5000).map(lambda n: "a" * n),  # beyond the filesystem's 255 per name
    st.sampled_from(["", ".", "..", "%2e%2e", "%2F", "%00", "%ff", "%", "%zz", "%C0%AE", "~", "a%20b", "index.html"]),
)
extension = st.one_of(
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=16),
    st.integers(17, 5000).map(lambda n: "m" * n),
    odd_text.map(percent),
)


@st.composite
def paths(draw: st.DrawFn) -> str:
    """The Bridge's route shapes with mutated segments, or any path at all."""
    shape = draw(
        st.sampled_from(["upload", "list", "blob", "blob.ext", "ping", "heartbeat", "turn", "torrents", "fixed", "any"])
    )
    if shape == "upload":
        path = "/upload" + draw(st.sampled_from(["", "/", "/x", ".json"]))
    elif shape == "list":
        path = "/list/" + draw(st.one_of(st.just(UPLOADER[1]), segment))
    elif shape in ("blob", "blob.ext"):
        name = draw(st.one_of(st.just(sha(BLOB)), segment))
        path = "/" + name + ("." + draw(extension) if shape == "blob.ext" else "")
    elif shape == "ping":
        path = "/api/ping" + draw(st.sampled_from(["", "/", "/x"]))
    elif shape == "heartbeat":
        path = "/api/heartbeat" + draw(st.sampled_from(["", "/", "/x"]))
    elif shape == "turn":
        path = "/api/turn" + draw(st.sampled_from(["", "/", "/x"]))
    elif shape == "torrents":
        path = "/api/torrents/" + draw(st.one_of(st.text(HEX + "ABCDEF", min_size=40, max_size=40), segment))
    elif shape == "fixed":
        path = draw(st.sampled_from(["/", "/config.json", "/metrics", "/api", "/api/", "/index.html", "/sw.js"]))
    else:
        path = "/" + "/".join(draw(st.lists(segment, min_size=1, max_size=4)))
    if draw(st.booleans()):
        path += "?" + draw(queries())
    return path


@st.composite
def queries(draw: st.DrawFn) -> str:
    keys = st.one_of(st.sampled_from(["limit", "since", "until", "cursor"]), odd_text)
    values = st.one_of(number_like, hex64, mutated(hex64))
    pairs = draw(st.lists(st.tuples(keys, values), max_size=4))
    return "&".join(f"{percent(k)}={percent(v)}" for k, v in pairs)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        odd_text,
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4),
    max_leaves=12,
)
nested_json = st.tuples(st.integers(990, 5000), st.sampled_from(["[", '{"a":', '{"torrents":[', "[{}"])).map(
    lambda t: t[1] * t[0]
)
# JSON texts json.dumps never writes: huge literals, NaN, 5000 digits (beyond int's digit limit)
odd_json_numbers = st.sampled_from(["1" * 5000, "1e999", "-1e999", "NaN", "Infinity", "1" + "0" * 400, "-0.0e-400"])


@st.composite
def event_like(draw: st.DrawFn) -> dict[str, object]:
    """Something shaped like a Nostr event, its fields sometimes valid, sometimes of any JSON type."""
    field_values = {
        "id": st.one_of(hex64, json_values),
        "pubkey": st.one_of(st.just(FUZZER[1]), hex64, json_values),
        "created_at": st.one_of(st.integers(0, 2**53), json_values),
        "kind": st.one_of(st.sampled_from([24242, 27235, 1]), json_values),
        "tags": st.one_of(st.lists(st.lists(event_text, max_size=3), max_size=4), json_values),
        "content": json_values,
        "sig": st.one_of(st.text(HEX, min_size=128, max_size=128), json_values),
    }
    names = draw(st.sets(st.sampled_from(sorted(field_values)), min_size=4))
    return {name: draw(field_values[name]) for name in sorted(names)}


authorization_values = st.one_of(
    st.sampled_from(["", "Nostr", "Nostr ", "Nostr    ", "Bearer abc", "Basic Zm9vOmJhcg==", "nostr e30=", "Nostr ="]),
    st.binary(max_size=300).map(lambda b: "Nostr " + b64(b)),
    st.integers(990, 5500).map(lambda n: "Nostr " + b64(b"[" * n)),  # fits aiohttp's 8190-byte header line
    json_values.map(lambda v: "Nostr " + b64(json.dumps(v).encode())),
    event_like().map(lambda e: "Nostr " + b64(json.dumps(e).encode())),
    event_like().map(lambda e: "Nostr " + base64.urlsafe_b64encode(json.dumps(e).encode()).decode().rstrip("=")),
    odd_json_numbers.map(lambda n: "Nostr " + b64(('{"kind":' + n + "}").encode())),
    odd_text,
)
mime_types = st.one_of(
    st.sampled_from(
        ["application/json", "text/plain", "image/png", "multipart/form-data; boundary=x", "a/b/c", ";", "*/*", ""]
    ),
    odd_text,
)
ranges = st.one_of(
    st.lists(
        st.tuples(st.one_of(st.integers(-3, 20), huge_numbers), st.one_of(st.integers(-3, 20), huge_numbers)).map(
            lambda t: f"{t[0]}-{t[1]}"
        )
        | st.one_of(st.integers(-3, 20).map(str), huge_numbers).map(lambda n: f"-{n}")
        | st.integers(0, 20).map(lambda n: f"{n}-"),
        min_size=1,
        max_size=3,
    ).map(lambda rs: "bytes=" + ",".join(rs)),
    st.sampled_from(["bytes=", "bytes=-", "bytes=--1", "items=0-1", "BYTES=0-1", "bytes=0-0,-0", "bytes=²-٣"]),
    odd_text,
)
http_dates = st.one_of(
    st.sampled_from(["Sun, 06 Nov 1994 08:49:37 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "0", "-1", "yesterday"]),
    odd_text,
)
# the headers the Bridge reads, and those aiohttp's FileResponse and CORS handling read
header_values: dict[str, st.SearchStrategy[str]] = {
    "Authorization": authorization_values,
    "X-Content-Length": number_like,
    "X-SHA-256": st.one_of(hex64, mutated(hex64), odd_text),
    "X-Content-Type": mime_types,
    "Content-Type": mime_types,
    "Range": ranges,
    "If-Range": st.one_of(http_dates, odd_text),
    "If-Modified-Since": http_dates,
    "If-Unmodified-Since": http_dates,
    "If-None-Match": st.one_of(st.just("*"), odd_text),
    "If-Match": st.one_of(st.just("*"), odd_text),
    "Accept-Encoding": st.one_of(st.sampled_from(["gzip", "br", "gzip, br, zstd", "*;q=0", "identity"]), odd_text),
    "Origin": st.one_of(st.just("https://example.org"), odd_text),
    "Access-Control-Request-Method": st.sampled_from(["PUT", "DELETE", "x"]),
    "X-Forwarded-For": odd_text,
}


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    names = draw(st.lists(st.sampled_from(sorted(header_values)), unique=True, max_size=6))
    return [(name, draw(header_values[name]).encode()) for name in names]


TORRENT = build_info([b"hello"], "hello.txt", 5)
# Malformed, but none needs DNS (which takes seconds to fail in the test's network namespace)
BAD_URLS = [
    "http://[::1",  # urlsplit: Invalid IPv6 URL
    "http://[zz]/",
    "http://" + "a" * 70 + "/",  # idna: label too long
    "https://../",
    "http://127.0.0.1\x00x/",  # getaddrinfo stops at the NUL: "127.0.0.1\x00x resolves to 127.0.0.1…"
    "http://127.0.0.1:99999999/",
    "http://10.0.0.1/clip.mp4",
    "ftp://127.0.0.1/",
    "http:///",
]
BAD_TRACKERS = ["ws://[::1", "wss://" + "a" * 70, "wss://..", "ws://127.0.0.1\x00x", "wss://[zz]", "http://[::1"]


def ping_like(draw: st.DrawFn) -> object:
    if draw(st.booleans()):  # a ping whose torrent is its magnet's: the Bridge goes on to the trackers and the url
        trackers = draw(st.lists(st.sampled_from(BAD_TRACKERS), max_size=3))
        magnet = f"magnet:?xt=urn:btih:{TORRENT.info_hash}" + "".join(f"&tr={quote(t, safe='')}" for t in trackers)
        url = draw(st.one_of(st.sampled_from(BAD_URLS), odd_text))
        return {"url": url, "magnet": magnet, "torrent": b64(TORRENT.info_bytes)}

    """{url, magnet, torrent} with plausible-looking, broken values: random magnets, random bencode-ish data."""
    info_hash = draw(st.one_of(st.text(HEX, min_size=40, max_size=40), st.text(string.ascii_uppercase, max_size=40)))
    magnet = draw(
        st.one_of(
            st.just(f"magnet:?xt=urn:btih:{info_hash}&tr=wss://tracker.invalid&dn=x"),
            st.just(f"magnet:?xt=urn:btih:{info_hash[:32]}"),
            odd_text.map(lambda t: "magnet:?" + t),
            json_values,
        )
    )
    bencoded = st.one_of(
        st.binary(max_size=200),
        st.integers(1, 5000).map(lambda n: b"l" * n),
        st.integers(1, 5000).map(lambda n: b"d4:info" * n),
        st.sampled_from(
            [b"d4:infoi1ee", b"d6:lengthi-1e4:name1:x12:piece lengthi0e6:pieces0:e", b"i99999999999999999999e"]
        ),
    ).map(b64)
    torrent = draw(st.one_of(bencoded, odd_text, json_values))
    url = draw(st.one_of(st.just(f"http://127.0.0.1:1/{sha(BLOB)}"), odd_text, json_values))
    return {"url": url, "magnet": magnet, "torrent": torrent}


def heartbeat_like(draw: st.DrawFn) -> object:
    entry = st.fixed_dictionaries(
        {"info_hash": st.one_of(st.text(HEX + "ABC", min_size=40, max_size=40), json_values), "seeders": json_values}
    )
    return {"torrents": draw(st.one_of(st.lists(entry, max_size=5), json_values))}


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["none", "bytes", "json", "nested", "odd number", "ping", "heartbeat"]))
    if kind == "none":
        return None
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "nested":
        return draw(nested_json).encode()
    if kind == "odd number":
        return (
            draw(st.sampled_from(['{"torrents": [{"info_hash": "%s", "seeders": %s}]}', "[%s]", "%s"]))
            .replace("%s", draw(odd_json_numbers))
            .encode()
        )
    value = ping_like(draw) if kind == "ping" else heartbeat_like(draw) if kind == "heartbeat" else draw(json_values)
    return json.dumps(value).encode()


@dataclass(frozen=True)
class Request:
    """One generated request; `sign` asks for a valid signature, made when sent (it needs the Bridge's URL and
    clock): "blossom" a kind 24242 event with these `verb` and x tags, "nip98" a kind 27235 event for the request
    (with `signed_path` as its u tag when given)."""

    method: str
    path: str
    headers: tuple[tuple[str, bytes], ...] = ()
    body: bytes | None = None
    sign: str = ""
    verb: str = ""
    xs: tuple[str, ...] = ()
    expiration: str = ""
    signed_path: str = ""

    def __repr__(self) -> str:
        def short(value: bytes | str) -> str:
            text = repr(value)
            return text if len(text) <= 200 else f"{text[:200]}…({len(value)} long)"

        parts = [f"{self.method} {short(self.path)}"]
        parts += [f"{name}: {short(value)}" for name, value in self.headers]
        if self.body is not None:
            parts.append(f"body {short(self.body)}")
        if self.sign:
            parts.append(f"signed {self.sign} verb={self.verb!r} xs={self.xs!r} expiration={self.expiration!r}")
        if self.signed_path:
            parts.append(f"u tag path {short(self.signed_path)}")
        return "Request(" + " | ".join(parts) + ")"


METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "PROPFIND"]


@st.composite
def any_requests(draw: st.DrawFn) -> Request:
    return Request(draw(st.sampled_from(METHODS)), draw(paths()), tuple(draw(header_lists())), draw(bodies()))


@st.composite
def signed_blossom_requests(draw: st.DrawFn) -> Request:
    """Blossom requests with a valid signature, so that the checks after it run: odd verbs, x tags, expirations,
    headers and bodies, aimed at each Blossom endpoint."""
    method, path = draw(
        st.one_of(
            st.sampled_from([("PUT", "/upload"), ("HEAD", "/upload"), ("DELETE", BLOB_PATH), ("GET", BLOB_PATH)]),
            st.sampled_from(["GET", "HEAD", "DELETE"]).map(lambda m: (m, "/" + "0" * 64)),
            st.tuples(st.sampled_from(["PUT", "HEAD", "DELETE", "GET"]), paths()),
        )
    )
    verb = draw(st.one_of(st.sampled_from(["upload", "delete", "get", "list", "media"]), event_text))
    xs = tuple(
        draw(st.lists(st.one_of(st.sampled_from([BODY_SHA, PATH_SHA, sha(BLOB)]), hex64, event_text), max_size=3))
    )
    expiration = draw(st.one_of(st.just("<valid>"), st.just(""), number_like, event_text))
    headers = [h for h in draw(header_lists()) if h[0] != "Authorization"]
    if (method, path) == ("HEAD", "/upload"):  # the preflight reads these first: mostly present
        headers = [h for h in headers if h[0] not in ("X-Content-Length", "X-SHA-256")]
        headers.append(("X-Content-Length", draw(st.one_of(st.just("10"), number_like)).encode()))
        headers.append(("X-SHA-256", draw(st.one_of(st.just(sha(BLOB)), header_values["X-SHA-256"])).encode()))
    body = draw(st.one_of(st.binary(max_size=3000), st.none(), st.just(BLOB)))
    return Request(method, path, tuple(headers), body, "blossom", verb, xs, expiration)


@st.composite
def signed_api_requests(draw: st.DrawFn) -> Request:
    """POST /api/ping and /api/heartbeat, NIP-98 signed for this very request, so that the body gets parsed."""
    path = draw(st.sampled_from(["/api/ping", "/api/heartbeat", "/api/turn"]))
    query = draw(st.one_of(st.just(""), queries().map(lambda q: "?" + q)))
    headers = [h for h in draw(header_lists()) if h[0] != "Authorization"]
    body = draw(bodies())
    signed_path = draw(st.one_of(st.just(""), st.just(""), paths()))  # mostly right, sometimes another URL
    return Request("POST", path + query, tuple(headers), body, "nip98", signed_path=signed_path)


def with_signature(bridge: Bridge, request: Request) -> list[tuple[str, bytes]]:
    """The request's headers, with the valid Authorization header it asks for."""
    headers = list(request.headers)
    now = bridge.now()
    body_sha = hashlib.sha256(request.body or b"").hexdigest()
    if request.sign == "blossom":
        path_sha = request.path.lstrip("/").partition("?")[0].partition(".")[0]
        xs = [body_sha if x == BODY_SHA else path_sha if x == PATH_SHA else x for x in request.xs]
        tags = [["t", request.verb], *(["x", x] for x in xs)]
        if request.expiration:
            tags.append(["expiration", str(int(now) + 600) if request.expiration == "<valid>" else request.expiration])
        headers.append(("Authorization", blossom_auth(FUZZER[0], request.verb, xs, now=now, tags=tags).encode()))
    elif request.sign == "nip98":
        url = bridge.url + (request.signed_path or request.path)
        payload = body_sha if request.body else None
        headers.append(("Authorization", http_auth(FUZZER[0], url, request.method, payload, now)))
    return headers


AIOHTTP_MAX_LINE = 8190
"""aiohttp's parser answers a longer request line or header itself (400, text), before the Bridge sees it."""


def check(bridge: Bridge, request: Request) -> None:
    """The property: no 5xx; a 4xx from one of the Bridge's endpoints has the error shape; nothing logged as an
    unhandled exception; and the Bridge still serves /config.json."""
    headers = with_signature(bridge, request)
    if len(request.path) + len(request.method) + 10 > AIOHTTP_MAX_LINE or any(
        len(value) + len(name) + 2 > AIOHTTP_MAX_LINE for name, value in headers
    ):
        reject()
    for origin in ("app", "media"):  # every request to both: the app's origin and the blobs' own
        try:
            reply, log = bridge.send(request.method, request.path, headers, request.body, origin)
        except ClientRefused:
            reject()  # http.client's own refusal (a non-ASCII path…): the request never reached the Bridge
        note(f"{origin} reply: {describe(reply)}")
        if log:
            note(f"Bridge log: {log}")
        assert reply.status < 500, f"{origin}: {request!r}\n  got {describe(reply)}\n  Bridge log: {log}"
        assert not log, f"{origin}: {request!r}\n  got {describe(reply)} but the Bridge logged: {log}"
        # the blobs' origin is all Blossom; on the app's, the API's routes (the rest is the PWA's files)
        if 400 <= reply.status < 500 and (origin == "media" or is_api_path(request.path)):
            problem = error_shape_problem(reply, request.method)
            assert problem is None, f"{origin}: {request!r}\n  error shape: {problem}\n  got {describe(reply)}"
    alive, _ = bridge.send("GET", "/config.json")
    assert alive.status == 200, f"after {request!r}: GET /config.json answered {describe(alive)}"


# each example goes to both origins: about 6 s each when nothing fails (4 of them: ~25 s)
FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@FUZZ
@given(request=any_requests())
def test_any_request_to_any_endpoint(bridge: Bridge, request: Request) -> None:
    check(bridge, request)


@FUZZ
@given(request=signed_blossom_requests())
def test_signed_blossom_requests(bridge: Bridge, request: Request) -> None:
    check(bridge, request)


@FUZZ
@given(request=signed_api_requests())
def test_signed_ping_and_heartbeat_bodies(bridge: Bridge, request: Request) -> None:
    check(bridge, request)


@FUZZ
@given(request=any_requests().map(lambda r: replace(r, path=r.path if is_api_path(r.path) else "/upload")))
def test_requests_to_the_bridges_own_endpoints(bridge: Bridge, request: Request) -> None:
    # the API and Blossom routes only, where every 4xx must have the error shape
    check(bridge, request)


def test_the_fuzzer_reaches_the_bridge(bridge: Bridge) -> None:
    # a guard for the property tests above: a well-formed signed heartbeat passes, so rejections are real ones
    body = json.dumps({"torrents": [{"info_hash": "a" * 40, "seeders": 1}]}).encode()
    request = Request("POST", "/api/heartbeat", body=body, sign="nip98")
    reply, log = bridge.send(request.method, request.path, with_signature(bridge, request), request.body)
    assert (reply.status, log) == (200, ""), describe(reply)
