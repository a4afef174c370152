"""The text shown beside a note's media (asknostr.event_media.text_beside)."""

from __future__ import annotations

from asknostr.event_media import text_beside
from asknostr.nip92 import Media


def test_the_text_beside_media_leaves_out_the_links_shown_as_media_and_keeps_the_rest() -> None:
    url = "https://media.example/" + "ab" * 32 + ".mp4"
    other = "https://example.com/read-this"
    link = "magnet:?xt=urn:btih:" + "cd" * 20
    shown = [Media(url=url), Media(url="", magnet=link)]
    content = f"look at this {other}\n{url}\n\n\n{link}\n#asknostr"
    assert text_beside(content, shown) == f"look at this {other}\n\n#asknostr"
    assert text_beside(url, shown) == ""
    assert text_beside(f"{url}x is not it", shown) == f"{url}x is not it"
