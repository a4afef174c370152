"""What a post says of its media before the bytes arrive (issue 16, media that looks finished): `dim`, `image` (a
video's poster), `blurhash` and `thumbhash` in imeta and NIP-94, each checked since other clients write anything,
and the blurhash decoded into the feed's placeholder (checked against the npm package the composer encodes with)."""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from asknostr import blurhash
from asknostr.event_media import media_of
from asknostr.media_post import note_template
from asknostr.nip92 import Media, aspect_ratio, imeta_tag, parse_dim, parse_imeta
from asknostr.nip94 import file_metadata_template, parse_file_metadata

ROOT = Path(__file__).resolve().parents[2]
HASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"  # 4x3 components
SHA = "ab" * 32
THUMBHASH = "1QcSHQRnh493V4dIh4eXh1h4kJUI"


def only(entry: str) -> Media:
    (media,) = parse_imeta([["imeta", "url https://m.example/v.mp4", entry]])
    return media


@pytest.mark.parametrize(
    ("dim", "kept"),
    [
        ("1920x1080", (1920, 1080)),
        ("1x1", (1, 1)),
        ("65535x1", (65535, 1)),
        ("0x0", None),
        ("0x10", None),
        ("99999999x1", None),
        ("65536x10", None),
        ("-5x10", None),
        ("10X10", None),
        ("10x10x10", None),
        ("10 x 10", None),
        ("\u0661\u0660x\u0661\u0660", None),  # Arabic-Indic digits: int() takes them, a dim is ASCII
        ("0010x10", None),
        ("", None),
    ],
)
def test_dim_is_kept_only_when_sane(dim: str, kept: tuple[int, int] | None) -> None:
    assert parse_dim(dim) == kept
    assert only(f"dim {dim}").dim == (dim if kept else "")


@pytest.mark.parametrize(
    ("dim", "ratio"),
    [
        ("1920x1080", "1920 / 1080"),
        ("1080x1920", "1080 / 1920"),
        ("400x100", "400 / 100"),
        ("401x100", "4 / 1"),
        ("65535x1", "4 / 1"),
        ("1x65535", "1 / 4"),
        ("0x0", ""),
        ("", ""),
        ("junk", ""),
    ],
)
def test_the_reserved_aspect_ratio_is_clamped(dim: str, ratio: str) -> None:
    assert aspect_ratio(Media("https://m.example/a.jpg", dim=dim)) == ratio


@pytest.mark.parametrize(
    "image",
    [
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "ftp://m.example/p.jpg",
        "//m.example/p.jpg",
        "https://",
        "https://m.example/a b.jpg",
        "",
    ],
)
def test_a_poster_that_is_not_an_http_url_is_dropped(image: str) -> None:
    assert only(f"image {image}").image == ""
    assert only("image http://m.example/p.jpg").image == "http://m.example/p.jpg"


@pytest.mark.parametrize(
    "value",
    [
        "garbage!",  # a character not in base 83
        "LEHV6nWB2yk8pyo0adR*.7kCMdn",  # one short of 4x3 components
        "LEHV6nWB2yk8pyo0adR*.7kCMdnjj",  # one too many
        "eVF$^OI:${M{o#*0-nNFxakD",  # says 5x5, has 10 characters of components
        "L",
        "LEHV6",
        "LEHV6nWB2yk8pyo0adR*.7kCMdn j",  # a space inside
        "\uff2cEHV6nWB2yk8pyo0adR*.7kCMdnj",  # a full-width letter
        "~" * 5000,
    ],
)
def test_a_malformed_blurhash_is_dropped_and_decodes_to_nothing(value: str) -> None:
    assert not blurhash.is_valid(value)
    assert only(f"blurhash {value}").blurhash == ""
    assert blurhash.data_url(value) == ""
    with pytest.raises(ValueError):
        blurhash.decode(value, 4, 4)


@pytest.mark.parametrize("value", ["not base64!", "AAAA", "A" * 200, "QUFB=QUFB", "1QcSHQRnh493V4dIh4eXh1h4kJUI==="])
def test_a_malformed_thumbhash_is_dropped(value: str) -> None:
    assert only(f"thumbhash {value}").thumbhash == ""
    assert only(f"thumbhash {THUMBHASH}").thumbhash == THUMBHASH


def test_previews_round_trip_through_imeta_the_note_and_nip94() -> None:
    media = Media(
        url="https://m.example/v.mp4",
        mime="video/mp4",
        sha256=SHA,
        dim="640x360",
        blurhash=HASH,
        image="https://m.example/poster.jpg",
        thumbhash=THUMBHASH,
        size=10,
    )
    tag = imeta_tag(media)
    assert f"blurhash {HASH}" in tag and "image https://m.example/poster.jpg" in tag and "dim 640x360" in tag
    assert parse_imeta([tag]) == [media]
    note = note_template("a clip", [media], 1)
    assert media_of({**note, "pubkey": "p" * 64}) == [media]

    template = file_metadata_template(media, "a clip", 1)
    tags = template["tags"]
    for expected in (["image", media.image], ["thumb", media.image], ["blurhash", HASH], ["dim", "640x360"]):
        assert expected in tags  # type: ignore[operator]
    event = {**template, "pubkey": "p" * 64}
    assert parse_file_metadata(event) == Media(**{**media.__dict__, "thumbhash": ""})  # not a NIP-94 field


def test_a_file_event_from_another_client_with_only_thumb_or_bad_fields() -> None:
    base = [["url", "https://m.example/v.mp4"], ["m", "video/mp4"]]
    thumb_only = {"kind": 1063, "tags": [*base, ["thumb", "https://m.example/t.jpg"]], "content": ""}
    assert parse_file_metadata(thumb_only) == Media(
        "https://m.example/v.mp4", "video/mp4", image="https://m.example/t.jpg"
    )
    both = [*base, ["thumb", "https://m.example/t.jpg"], ["image", "https://m.example/i.jpg"]]
    image = parse_file_metadata({"kind": 1063, "tags": both, "content": ""})
    assert image is not None and image.image == "https://m.example/i.jpg"
    # an image that is no http(s) URL does not hide a good thumb after it
    relative = parse_file_metadata(
        {"kind": 1063, "tags": [*base, ["image", "/rel.jpg"], ["thumb", "https://m.example/t.jpg"]], "content": ""}
    )
    assert relative is not None and relative.image == "https://m.example/t.jpg"
    bad = [*base, ["dim", "0x0"], ["image", "javascript:x"], ["blurhash", "nope"], ["thumb", "data:,x"]]
    assert parse_file_metadata({"kind": 1063, "tags": bad, "content": ""}) == Media(
        "https://m.example/v.mp4", "video/mp4"
    )


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB pixels of an 8-bit RGB PNG with no filters (what blurhash.png writes), read from its
    chunks: its CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = body
        at += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * width
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, b"".join(row[1:] for row in rows)


def test_the_placeholder_is_a_png_of_the_decoded_hash() -> None:
    width, height = blurhash.placeholder_size(parse_dim("1920x1080"))
    assert (width, height) == (32, 18)
    url = blurhash.data_url(HASH, width, height)
    assert url.startswith("data:image/png;base64,")
    png = base64.b64decode(url.removeprefix("data:image/png;base64,"))
    assert read_png(png) == (32, 18, blurhash.decode(HASH, 32, 18))
    assert len(url) < 4000  # a few KB per post, not more
    assert blurhash.placeholder_size(None) == (32, 32)
    assert blurhash.placeholder_size((1, 65535)) == (1, 32)


NODE_DECODE = """
const { decode } = require('blurhash')
const [hash, w, h] = JSON.parse(process.argv[1])
process.stdout.write(JSON.stringify(Array.from(decode(hash, w, h))))
"""


@pytest.mark.skipif(not (ROOT / "node_modules" / "blurhash").exists() or not shutil.which("node"), reason="npm ci")
@pytest.mark.parametrize(("value", "width", "height"), [(HASH, 32, 24), ("00Rp$s", 5, 7), ("|" + "L" * 165, 9, 4)])
def test_decoding_agrees_with_the_npm_package_the_composer_encodes_with(value: str, width: int, height: int) -> None:
    """The reference decoder (Wolt's, npm `blurhash`) gives RGBA; ours RGB: each channel within 1 (rounding)."""
    assert blurhash.is_valid(value), value
    out = subprocess.run(
        ["node", "-e", NODE_DECODE, json.dumps([value, width, height])], capture_output=True, check=True, cwd=ROOT
    )
    rgba = json.loads(out.stdout)
    expected = [v for i, v in enumerate(rgba) if i % 4 != 3]
    ours = list(blurhash.decode(value, width, height))
    assert len(ours) == len(expected) == width * height * 3
    assert max(abs(a - b) for a, b in zip(ours, expected, strict=True)) <= 1


def test_a_placeholder_decodes_only_the_low_components_of_a_big_hash() -> None:
    """A 9x9 hash from a stranger's post costs no more than a 4x4 one: its placeholder is exactly the 4x4 hash
    made of its first components."""
    import random

    from asknostr.blurhash import PLACEHOLDER_COMPONENTS

    chars = blurhash._CHARS
    rng = random.Random(7)
    full_ac = [rng.choice(chars) + rng.choice(chars[:19]) for _ in range(80)]  # each below 19*19*19
    full = chars[8 + 8 * 9] + "Q" + "LEHV" + "".join(full_ac)
    assert blurhash.components(full) == (9, 9)
    nx, ny = PLACEHOLDER_COMPONENTS
    low = [full_ac[j * 9 + i - 1] for j in range(ny) for i in range(nx) if j or i]
    truncated = chars[(nx - 1) + (ny - 1) * 9] + "Q" + "LEHV" + "".join(low)
    assert blurhash.components(truncated) == (nx, ny)
    assert blurhash.decode(full, 32, 18, PLACEHOLDER_COMPONENTS) == blurhash.decode(truncated, 32, 18)
    assert blurhash.data_url(full, 32, 18) == blurhash.data_url(truncated, 32, 18)
