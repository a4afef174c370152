"""Which bytes of a media file to ask its HTTP server for, once HTTP fills what P2P has not got (asknostr.media_race
decides when): the bytes neither P2P's verified pieces nor earlier HTTP answers hold, nor an answer under way will
bring, from where playback reads first. A byte is asked for once: an answer is never stopped while it still brings
bytes nobody holds (what the server had sent into the connection would be lost and asked for again); a seek elsewhere
gets a second answer beside it. A range is (start, end): bytes start..end-1.
"""

from __future__ import annotations

from collections.abc import Iterable

CHUNK = 4 * 1024 * 1024  # bytes asked for at once: between two requests the plan sees P2P's new pieces and seeks
PARALLEL = 2  # answers under way at most: the one in order, and one for where playback waits after a seek

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


def next_fetch(
    size: int, held: Iterable[Range], position: int, chunk: int = CHUNK, piece_length: int = 0
) -> Range | None:
    """The next range to ask the HTTP server for: from the first byte not held at or after `position` (where playback
    reads), else from the first one before it, up to `chunk` bytes and never into held bytes; None once the file is
    whole. With `piece_length` (P2P's) it ends on a piece's end where it can, so no piece is left half to P2P."""
    if size < 0 or chunk <= 0:
        raise ValueError(f"cannot plan fetches of {chunk} bytes in a file of {size} bytes")
    if not 0 <= position <= size:
        raise ValueError(f"playback reads at byte {position} of a file of {size} bytes")
    gaps = missing(size, held)
    if not gaps:
        return None
    start, end = next(((max(s, position), e) for s, e in gaps if e > position), gaps[0])
    stop = start + chunk
    if piece_length > 0:
        boundary = stop // piece_length * piece_length
        stop = boundary if boundary > start else boundary + piece_length
    return start, min(end, stop)


def plan(
    size: int,
    held: Iterable[Range],
    under_way: Iterable[Range],
    position: int,
    waiting: int | None,
    *,
    ranged: bool = True,
    chunk: int = CHUNK,
    piece_length: int = 0,
    p2p_busy: Iterable[Range] = (),
) -> Range | None:
    """What to ask for next while the answers `under_way` (the bytes each has still to bring) come: with none under
    way, `next_fetch` from `position`; beside them, only a range from where playback waits (`waiting`; None: it waits
    for none) when no answer under way will bring that byte, at most PARALLEL at once, and never bytes they will
    bring. `ranged`: False when the server sends the whole file whatever is asked (a second answer would be all of
    it again). `p2p_busy`: the bytes of pieces P2P is fetching now, left to it while anything else is missing and
    playback does not wait in them (taken from P2P, what it had of them would come twice). None: nothing to ask for
    now."""
    coming = merge(under_way)
    held = merge(held)
    busy = [(start, end) for start, end in merge(p2p_busy) if waiting is None or not start <= waiting < end]
    if not coming:
        return next_fetch(size, [*held, *busy], position, chunk, piece_length) or next_fetch(
            size, held, position, chunk, piece_length
        )
    if not ranged or waiting is None or len(coming) >= PARALLEL:
        return None
    if not 0 <= waiting < size:
        raise ValueError(f"playback waits for byte {waiting} of a file of {size} bytes")
    if any(start <= waiting < end for start, end in [*held, *coming]):
        return None  # here already, or on its way
    return next_fetch(size, [*held, *coming, *busy], waiting, chunk, piece_length)


def should_stop(rest: Range, held: Iterable[Range]) -> bool:
    """Whether to stop an answer under way that has still to bring `rest`: only once every one of those bytes is held
    (P2P verified them meanwhile). Stopped earlier, what the server had sent into the connection is lost and would
    be asked for again; a seek elsewhere gets an answer of its own instead (`plan`)."""
    start, end = rest
    if start > end:
        raise ValueError(f"an answer cannot have {start}..{end - 1} still to come")
    return not missing(end, [(0, start), *held])
