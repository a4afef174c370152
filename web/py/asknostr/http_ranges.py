"""Which bytes of a media file to ask its HTTP server for, once HTTP fills what P2P has not got (asknostr.media_race
decides when): the bytes neither P2P's verified pieces nor earlier HTTP answers hold, from where playback reads
first. A range is (start, end): bytes start..end-1.
"""

from __future__ import annotations

from collections.abc import Iterable

CHUNK = 4 * 1024 * 1024  # bytes asked for at once: between two requests the plan sees P2P's new pieces and seeks

Range = tuple[int, int]


def merge(ranges: Iterable[Range]) -> list[Range]:
    """`ranges` sorted, with those that touch or overlap joined (empty ones dropped)."""
    merged: list[Range] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if start < 0:
            raise ValueError(f"a byte range cannot start before the file: {start}")
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def pieces(bits: str, piece_length: int, size: int) -> list[Range]:
    """The bytes of the pieces P2P has verified: `bits` has a "1" for each (WebTorrent's bitfield, as text)."""
    if piece_length <= 0 or size < 0:
        raise ValueError(f"no pieces of {piece_length} bytes in a file of {size} bytes")
    if len(bits) > -(-size // piece_length):
        raise ValueError(f"{len(bits)} pieces of {piece_length} bytes is more than a file of {size} bytes has")
    return merge(
        (index * piece_length, min(size, (index + 1) * piece_length)) for index, bit in enumerate(bits) if bit == "1"
    )


def missing(size: int, held: Iterable[Range]) -> list[Range]:
    """The bytes of a file of `size` bytes that `held` does not cover."""
    gaps: list[Range] = []
    at = 0
    for start, end in merge(held):
        if start > at:
            gaps.append((at, min(start, size)))
        at = max(at, end)
    if at < size:
        gaps.append((at, size))
    return [gap for gap in gaps if gap[1] > gap[0]]


def held_bytes(size: int, held: Iterable[Range]) -> int:
    """How many of the file's bytes `held` covers."""
    return size - sum(end - start for start, end in missing(size, held))


def next_fetch(size: int, held: Iterable[Range], position: int, chunk: int = CHUNK) -> Range | None:
    """The next range to ask the HTTP server for: from the first byte not held at or after `position` (where playback
    reads), else from the first one before it, up to `chunk` bytes and never into held bytes; None once the file is
    whole."""
    if size < 0 or chunk <= 0:
        raise ValueError(f"cannot plan fetches of {chunk} bytes in a file of {size} bytes")
    if not 0 <= position <= size:
        raise ValueError(f"playback reads at byte {position} of a file of {size} bytes")
    gaps = missing(size, held)
    if not gaps:
        return None
    start, end = next(((max(s, position), e) for s, e in gaps if e > position), gaps[0])
    return start, min(end, start + chunk)


def still_wanted(fetching: Range, at: int, waiting: int | None) -> bool:
    """Whether an HTTP answer under way (bytes `fetching`, here up to `at`) is still worth waiting for: not when
    playback waits for a byte (`waiting`; None: it waits for none) that this answer will not bring, after a seek.
    What came of it is kept either way."""
    start, end = fetching
    if not start <= at <= end:
        raise ValueError(f"an answer for bytes {start}..{end - 1} cannot have reached byte {at}")
    return waiting is None or at <= waiting < end
