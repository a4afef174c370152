"""What the composer accepts as a post's files, and what it says of those it refuses (nothing is posted then).

An empty file has nothing to play or seed (the Bridge refuses its ping, and the viewer would call it complete); a
file over the largest the Bridge keeps could not fall back to it. Sizes are in the units the Bridge counts
(MiB), so the limit the user reads is the one that applies.
"""

from __future__ import annotations

from collections.abc import Sequence


def size_text(size: int) -> str:
    """A size as the app shows it: bytes in binary units (the limits are round numbers of MiB)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def refusal(files: Sequence[tuple[str, int]], max_bytes: int) -> str | None:
    """Why the files (name, size) cannot be posted, in the app's words; None when they can."""
    empty = [name for name, size in files if size <= 0]
    if empty:
        return f"{', '.join(empty)}: the file is empty — nothing posted"
    too_big = [name for name, size in files if size > max_bytes]
    if too_big:
        limit = size_text(max_bytes)
        return f"larger than {limit}, the most the Bridge keeps: {', '.join(too_big)} — nothing posted"
    return None
