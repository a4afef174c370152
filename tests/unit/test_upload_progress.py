"""The composer's line for a file being hashed: how much of it is read so far."""

from __future__ import annotations

from asknostr.upload_progress import FileProgress


def test_the_hashing_line_says_how_much_is_hashed() -> None:
    progress = FileProgress("clip.mp4", 4000)
    assert progress.line() == "clip.mp4: hashing · 0%"
    assert progress.sent_bytes(1000).line() == "clip.mp4: hashing · 25%"
    assert progress.sent_bytes(4000).line() == "clip.mp4: hashing · 100%"
    assert progress.sent_bytes(1000).uploading("b").line() == "clip.mp4: uploading to b · 0%"  # the upload's own count
