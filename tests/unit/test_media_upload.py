"""The composer's pure core: upload targets, Blossom and NIP-96 answers, NIP-94/NIP-92 events, the ping queue."""

import base64
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asknostr import nip98
from asknostr.blossom import UploadRejected, parse_descriptor, upload_auth_template
from asknostr.event_media import media_of
from asknostr.magnet import display_name
from asknostr.magnet import info_hash as magnet_info_hash
from asknostr.media_post import is_community_post, note_template
from asknostr.media_servers import (
    BLOSSOM,
    NIP96,
    MediaServer,
    changed_lists,
    list_tags,
    normalize_server_url,
    server_list,
    storage_providers,
)
from asknostr.nip92 import Media
from asknostr.nip94 import file_metadata_template, parse_file_metadata
from asknostr.nip96 import api_url, parse_upload_answer
from asknostr.ping_queue import Ping, PingQueue, is_permanent, retry_delay
from asknostr.upload_progress import FileProgress

SHA = hashlib.sha256(b"clip").hexdigest()
IH = "ab" * 20
MAGNET = f"magnet:?xt=urn:btih:{IH}&dn=clip.mp4&tr=wss%3A%2F%2Ftracker.example"


def test_nip98_template_and_header() -> None:
    template = nip98.http_auth_template("https://b.example/api/ping", "post", b"{}", 100)
    assert template["kind"] == 27235 and template["created_at"] == 100
    assert template["tags"] == [
        ["u", "https://b.example/api/ping"],
        ["method", "POST"],
        ["payload", hashlib.sha256(b"{}").hexdigest()],
    ]
    header = nip98.authorization({"kind": 1, "content": "é"})
    assert header.startswith("Nostr ") and json.loads(base64.b64decode(header[6:])) == {"kind": 1, "content": "é"}
    assert nip98.http_auth_template("https://x", "GET", None, 1)["tags"] == [["u", "https://x"], ["method", "GET"]]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://Media.Example.com/", "https://media.example.com"),
        ("media.example.com", "https://media.example.com"),
        ("http://127.0.0.1:8700", "http://127.0.0.1:8700"),
        ("https://host/path/", "https://host/path"),
    ],
)
def test_server_urls_are_normalised(raw: str, expected: str) -> None:
    assert normalize_server_url(raw) == expected


@pytest.mark.parametrize("raw", ["ftp://x", "https://", "wss://relay", "https://a b", "https://x/?q=1"])
def test_bad_server_urls_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_server_url(raw)


def test_storage_providers_put_settings_then_lists_then_the_bridge_last() -> None:
    settings = [MediaServer(NIP96, "https://nip96.example"), MediaServer(BLOSSOM, "https://mine.example")]
    event = {"kind": 10063, "tags": [["server", "https://mine.example/"], ["server", "https://b2.example"], ["x"]]}
    blossom = server_list(event, "server")
    assert blossom == ["https://mine.example", "https://b2.example"]
    providers = storage_providers(settings, blossom, ["https://n2.example"], "http://127.0.0.1:8700/")
    assert [(p.protocol, p.url, p.bridge) for p in providers] == [
        (NIP96, "https://nip96.example", False),
        (BLOSSOM, "https://mine.example", False),
        (BLOSSOM, "https://b2.example", False),
        (NIP96, "https://n2.example", False),
        (BLOSSOM, "http://127.0.0.1:8700", True),
    ]
    # no preference at all: the Bridge alone; a user listing the Bridge gets it once, last
    assert storage_providers([], [], [], "http://b:8700") == [MediaServer(BLOSSOM, "http://b:8700", bridge=True)]
    assert [p.url for p in storage_providers([MediaServer(BLOSSOM, "http://b:8700")], [], [], "http://b:8700")] == [
        "http://b:8700"
    ]
    assert list_tags(providers, BLOSSOM) == [["server", "https://mine.example"], ["server", "https://b2.example"]]
    assert list_tags(providers, NIP96) == [["server", "https://nip96.example"], ["server", "https://n2.example"]]


def test_only_changed_server_lists_are_published_again() -> None:
    servers = [MediaServer(BLOSSOM, "https://a.example"), MediaServer(NIP96, "https://n.example")]
    published = {
        10063: {"kind": 10063, "tags": [["server", "https://a.example/"]]},  # the same URL, written differently
        10096: None,
    }
    assert changed_lists(servers, published) == [(10096, [["server", "https://n.example"]])]
    # the last server of a kind removed: an empty list is published, so other clients drop it too
    assert changed_lists(servers[1:], published) == [
        (10063, []),
        (10096, [["server", "https://n.example"]]),
    ]


def test_blossom_upload_auth_and_descriptor_check() -> None:
    template = upload_auth_template(SHA, 4, 1000)
    assert template["kind"] == 24242
    assert ["t", "upload"] in template["tags"] and ["x", SHA] in template["tags"]  # type: ignore[operator]
    assert ["expiration", "1600"] in template["tags"]  # type: ignore[operator]
    uploaded = parse_descriptor({"url": "https://m.example/x.mp4", "sha256": SHA, "size": 4, "type": "video/mp4"}, SHA)
    assert uploaded.url == "https://m.example/x.mp4" and uploaded.size == 4 and uploaded.mime == "video/mp4"
    with pytest.raises(UploadRejected, match="other bytes"):
        parse_descriptor({"url": "https://m.example/x", "sha256": "0" * 64}, SHA)
    with pytest.raises(UploadRejected, match="no http"):
        parse_descriptor({"url": "javascript:alert(1)", "sha256": SHA}, SHA)
    with pytest.raises(UploadRejected):
        parse_descriptor("<html>", SHA)


def test_nip96_discovery_and_answers() -> None:
    assert api_url({"api_url": "/api/v2/media"}, "https://n.example") == "https://n.example/api/v2/media"
    with pytest.raises(UploadRejected, match="delegates"):
        api_url({"api_url": "", "delegated_to_url": "https://other"}, "https://n.example")
    answer = {
        "status": "success",
        "nip94_event": {"tags": [["url", "https://n.example/f.mp4"], ["ox", SHA], ["x", SHA], ["m", "video/mp4"]]},
    }
    assert parse_upload_answer(answer, SHA).url == "https://n.example/f.mp4"
    transformed = {"status": "success", "nip94_event": {"tags": [["url", "https://n/f"], ["ox", SHA], ["x", "1" * 64]]}}
    with pytest.raises(UploadRejected, match="transformed"):
        parse_upload_answer(transformed, SHA)
    with pytest.raises(UploadRejected, match="refused the upload: quota"):
        parse_upload_answer({"status": "error", "message": "quota"}, SHA)


def test_file_metadata_round_trip() -> None:
    media = Media(url="https://m.example/a.mp4", mime="video/mp4", sha256=SHA, size=4, dim="640x360", infohash=IH)
    media = Media(**{**media.__dict__, "magnet": MAGNET})
    template = file_metadata_template(media, "a clip", 5)
    tags = template["tags"]
    assert template["kind"] == 1063 and template["content"] == "a clip"
    for expected in (["x", SHA], ["ox", SHA], ["size", "4"], ["dim", "640x360"], ["i", IH], ["magnet", MAGNET]):
        assert expected in tags  # type: ignore[operator]
    event = {**template, "pubkey": "p" * 64}
    assert parse_file_metadata(event) == media
    assert media_of(event) == [media]


def test_media_of_every_form() -> None:
    imeta = ["imeta", "url https://m.example/a.jpg", "m image/jpeg", f"magnet {MAGNET}"]
    note = {"kind": 1, "tags": [imeta], "content": f"look https://m.example/a.jpg {MAGNET}"}
    (found,) = media_of(note)
    assert found.infohash == IH and found.url == "https://m.example/a.jpg"  # from the magnet, not duplicated
    other = "cd" * 20
    bare = {"kind": 1, "tags": [], "content": f"raw magnet:?xt=urn:btih:{other.upper()}&dn=x here"}
    assert [(m.url, m.infohash) for m in media_of(bare)] == [("", other)]
    assert media_of({"kind": 7, "tags": [imeta], "content": ""}) == []
    b32 = base64.b32encode(bytes.fromhex(other)).decode()
    assert magnet_info_hash(f"magnet:?xt=urn:btih:{b32}") == other
    assert magnet_info_hash("magnet:?dn=x") == ""
    assert display_name(f"magnet:?xt=urn:btih:{other}&dn=caf%C3%A9%201.mp4&tr=ws%3A%2F%2Ft") == "café 1.mp4"
    assert display_name("magnet:?xt=urn:btih:00") == "" and display_name("https://x/?dn=y") == ""


def test_note_with_media_and_the_community_tag() -> None:
    media = [Media(url="https://m.example/a.mp4", mime="video/mp4", sha256=SHA, infohash=IH, magnet=MAGNET)]
    template = note_template("hello", media, 9, community=True, file_events=["e" * 64])
    assert template["content"] == "hello\nhttps://m.example/a.mp4\n#asknostr"
    tags = template["tags"]
    assert isinstance(tags, list)
    assert tags[0][0] == "imeta" and f"i {IH}" in tags[0] and f"magnet {MAGNET}" in tags[0]
    assert ["e", "e" * 64, "", "mention"] in tags and is_community_post(tags)
    assert not is_community_post(note_template("x", [], 1)["tags"])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        note_template("  ", [], 1)


def test_ping_queue_retries_with_growing_delays_and_survives_json() -> None:
    queue = PingQueue()
    ping = Ping("http://b", IH, "https://m/a", MAGNET, "dG9ycmVudA==")
    queue.add(ping, now=100)
    assert [p.info_hash for p in queue.due(100)] == [IH]
    first = queue.failed(IH, "offline", now=100)
    assert first is not None and first.next_at == 105 and first.attempts == 1
    second = queue.failed(IH, "offline", now=105)
    assert second is not None and second.next_at == 115
    assert queue.due(110) == [] and queue.next_due() == 115
    restored = PingQueue.from_json(queue.to_json())
    assert restored.pings == queue.pings
    restored.retry_all_now(110)
    assert [p.info_hash for p in restored.due(110)] == [IH] and restored.pings[IH].attempts == 2
    assert queue.failed(IH, "bad torrent", now=120, permanent=True) is None and not queue.pings
    assert PingQueue.from_json("garbage").pings == {} and PingQueue.from_json('[{"x": 1}]').pings == {}
    assert is_permanent(422) and is_permanent(400) and not is_permanent(401) and not is_permanent(503)


@given(st.integers(1, 10_000))
def test_retry_delays_grow_and_are_capped(attempts: int) -> None:
    assert 5 <= retry_delay(attempts) <= 3600
    assert retry_delay(attempts + 1) >= retry_delay(attempts)


def test_progress_lines_name_the_server_and_the_failures() -> None:
    progress = FileProgress("clip.mp4", 1000).uploading("mine.example").sent_bytes(250)
    assert progress.line() == "clip.mp4: uploading to mine.example · 25%"
    progress = progress.failed_on("mine.example", "HTTP 500").uploading("the Bridge (b:1)").sent_bytes(1000)
    assert progress.line() == "clip.mp4: uploading to the Bridge (b:1) (after 1 failed) · 100%"
    assert progress.uploaded().line() == "clip.mp4: stored on the Bridge (b:1)"
    assert "no server took it (mine.example: HTTP 500)" in progress.given_up().line()
