"""The headers that keep a user's blob inert (bridge.blob_policy), and the one range served."""

from __future__ import annotations

import pytest

from bridge.blob_policy import NEUTRAL_TYPE, byte_range, range_satisfiable, response_headers, single_range


@pytest.mark.parametrize("media_type", ["image/png", "image/webp", "video/mp4", "audio/ogg", "text/plain"])
def test_passive_media_plays_inline_under_its_type(media_type: str) -> None:
    headers = response_headers(media_type)
    assert (headers["Content-Type"], headers["Content-Disposition"]) == (media_type, "inline")
    assert headers["Content-Security-Policy"].startswith("sandbox;") and headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "media_type",
    [
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "image/SVG+XML",
        "image/x+xml",  # XML under an image top type: not an image to a browser
        "image/xhtml+xml",
        "application/xml",
        "text/xml",
        "text/javascript",
        "application/x-javascript",
        "multipart/x-mixed-replace",
    ],
)
def test_types_a_browser_would_run_are_downloads_of_no_type(media_type: str) -> None:
    headers = response_headers(media_type)
    assert (headers["Content-Type"], headers["Content-Disposition"]) == (NEUTRAL_TYPE, "attachment")
    assert "sandbox" in headers["Content-Security-Policy"]


def test_other_types_are_downloads_under_their_own_type() -> None:
    assert response_headers("application/pdf")["Content-Disposition"] == "attachment"
    assert response_headers("application/zip")["Content-Type"] == "application/zip"


@pytest.mark.parametrize(
    ("header", "size", "single", "satisfiable"),
    [
        ("bytes=0-0", 10, True, True),
        ("bytes=-3", 10, True, True),
        ("bytes=5-", 10, True, True),
        ("bytes=-0", 10, True, False),  # a suffix of no byte (RFC 9110: 416)
        ("bytes=10-", 10, True, False),
        ("bytes=0-", 0, True, False),
        ("bytes=5-2", 10, False, True),  # not a range: ignored, the whole blob
        ("bytes=0-1,3-4", 10, False, True),
        ("bytes=0-1\x85", 10, False, True),  # a character str.strip() would take for space but aiohttp does not
        (" bytes=0-1\t", 10, True, True),
    ],
)
def test_one_range_is_served_and_an_empty_one_refused(header: str, size: int, single: bool, satisfiable: bool) -> None:
    assert single_range(header) is single
    assert range_satisfiable(header, size) is satisfiable


@pytest.mark.parametrize(
    ("header", "size", "bounds"),
    [
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=2-5", 10, (2, 5)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),  # a suffix longer than the blob: all of it
        ("bytes=5-", 10, (5, 9)),
        ("bytes=5-99", 10, (5, 9)),  # a last byte past the end: the end
        ("bytes=10-", 10, None),  # unsatisfiable (answered 416 before this is asked)
        ("bytes=5-2", 10, None),  # ignored: the whole blob
        (None, 10, None),
    ],
)
def test_the_bytes_a_range_selects(header: str | None, size: int, bounds: tuple[int, int] | None) -> None:
    assert byte_range(header, size) == bounds
