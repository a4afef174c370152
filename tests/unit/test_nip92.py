import pytest

from asknostr.nip01 import check_event
from asknostr.nip92 import Media, imeta_tag, media_kind, parse_imeta
from tests.unit.nostr_keys import keypair, sign_event

HASH = "ab" * 32
INFOHASH = "cd" * 20
MAGNET = f"magnet:?xt=urn:btih:{INFOHASH}&dn=cat.mp4"


def test_parse_imeta_from_signed_event() -> None:
    tags = [
        ["t", "cats"],
        [
            "imeta",
            "url https://media.example/cat.mp4",
            "m Video/MP4",
            f"x {HASH.upper()}",
            "dim 1920x1080",
            "alt a cat, sleeping",
            "blurhash LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            "image https://media.example/cat.jpg",
            "thumbhash 1QcSHQRnh493V4dIh4eXh1h4kJUI",
            "size 1048576",
            f"i {INFOHASH}",
            f"magnet {MAGNET}",
            "fallback https://mirror.example/cat.mp4",
            "fallback ftp://dropped.example/cat.mp4",
            "fallback https://mirror2.example/cat.mp4",
            "summary unknown fields are ignored",
            "novalue",
        ],
        ["imeta", "url https://media.example/pic.jpg", "url https://ignored.example/second-url.jpg"],
        ["imeta", "url ftp://media.example/nope.jpg", "m image/jpeg"],
        ["imeta", "m image/png"],
    ]
    event = check_event(sign_event({"kind": 1, "tags": tags, "created_at": 1}, keypair(1)[0]))
    assert parse_imeta(event["tags"]) == [
        Media(
            url="https://media.example/cat.mp4",
            mime="video/mp4",
            sha256=HASH,
            dim="1920x1080",
            alt="a cat, sleeping",
            blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            image="https://media.example/cat.jpg",
            thumbhash="1QcSHQRnh493V4dIh4eXh1h4kJUI",
            fallbacks=("https://mirror.example/cat.mp4", "https://mirror2.example/cat.mp4"),
            size=1048576,
            infohash=INFOHASH,
            magnet=MAGNET,
        ),
        Media(url="https://media.example/pic.jpg"),
    ]


def test_parse_imeta_drops_invalid_optional_fields() -> None:
    tag = ["imeta", "url http://x.example/a", "x nothex", "size -5", "i 1234", "magnet https://no.example"]
    assert parse_imeta([tag, []]) == [Media(url="http://x.example/a")]
    assert parse_imeta([["imeta", "size ²", "url https://x.example/a"]]) == [Media(url="https://x.example/a")]
    assert parse_imeta([["imeta", "url https://"], ["imeta", "url https://x .example/a"]]) == []


@pytest.mark.parametrize(
    ("media", "kind"),
    [
        (Media("https://x.example/a", mime="image/webp"), "image"),
        (Media("https://x.example/a.jpg", mime="video/mp4"), "video"),
        (Media("https://x.example/a", mime="audio/ogg"), "audio"),
        (Media("https://x.example/a.PNG", mime="application/octet-stream"), "image"),
        (Media("https://x.example/dir.mp4/clip.WEBM?download=1#t=2"), "video"),
        (Media("https://x.example/song.opus"), "audio"),
        (Media("https://x.example/a.pdf"), None),
        (Media("https://x.example/noext"), None),
        (Media("https://x.example.png/"), None),
    ],
)
def test_media_kind(media: Media, kind: str | None) -> None:
    assert media_kind(media) == kind


def test_imeta_tag_round_trip() -> None:
    media = Media(
        url="https://media.example/a.png",
        mime="image/png",
        sha256=HASH,
        dim="10x10",
        alt="alt text with spaces",
        fallbacks=("https://b.example/a.png",),
        size=0,
        infohash=INFOHASH,
        magnet=MAGNET,
    )
    tag = imeta_tag(media)
    assert tag == [
        "imeta",
        "url https://media.example/a.png",
        "m image/png",
        f"x {HASH}",
        "size 0",
        "dim 10x10",
        "alt alt text with spaces",
        f"i {INFOHASH}",
        f"magnet {MAGNET}",
        "fallback https://b.example/a.png",
    ]
    assert parse_imeta([tag]) == [media]
    assert imeta_tag(Media("https://x.example/a")) == ["imeta", "url https://x.example/a"]
