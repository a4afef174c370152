"""BlurHash, the placeholder most Nostr clients read from an imeta `blurhash`: checked (other people's events carry
anything), and decoded into a small PNG `data:` URL that the feed shows until the media loads. The app encodes with
the vendored npm `blurhash` (static/js/poster.js); this is the decoder of the same algorithm (Wolt's reference),
so the feed needs no JS for it."""

from __future__ import annotations

import base64
import math
import struct
import zlib
from functools import lru_cache

_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
_VALUE = {char: index for index, char in enumerate(_CHARS)}
PLACEHOLDER_SIDE = 32  # pixels on the long side: the browser scales it up, and a blur needs no more
PLACEHOLDER_COMPONENTS = (4, 4)
"""The most components a placeholder decodes each way: the low ones carry the blur, and a 9x9 hash from a
stranger's post would cost five times the work for detail a blur does not show."""


def components(value: str) -> tuple[int, int] | None:
    """(x, y) components of a well-formed hash (1..9 each; its length must match them), else None."""
    if not 6 <= len(value) <= 4 + 2 * 81 or any(char not in _VALUE for char in value):
        return None
    size = _VALUE[value[0]]
    x, y = size % 9 + 1, size // 9 + 1
    return (x, y) if len(value) == 4 + 2 * x * y else None


def is_valid(value: str) -> bool:
    return components(value) is not None


def _decode83(text: str) -> int:
    number = 0
    for char in text:
        number = number * 83 + _VALUE[char]
    return number


def _to_linear(channel: int) -> float:
    v = channel / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def _to_srgb(value: float) -> int:
    v = min(1.0, max(0.0, value))
    return int((v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _sign_square(value: float) -> float:
    return math.copysign(value * value, value)


def decode(value: str, width: int, height: int, most: tuple[int, int] = (9, 9)) -> bytes:
    """The hash as `width` x `height` RGB pixels, row by row, from at most `most` of its components each way.
    ValueError for a malformed hash."""
    found = components(value)
    if found is None or width < 1 or height < 1:
        raise ValueError("not a blurhash")
    stride = found[0]  # the hash's own layout: component (i, j) is number j * stride + i
    nx, ny = min(found[0], most[0]), min(found[1], most[1])
    maximum = (_decode83(value[1]) + 1) / 166
    dc = _decode83(value[2:6])
    colors: dict[int, tuple[float, float, float]] = {
        0: (_to_linear(dc >> 16), _to_linear((dc >> 8) & 255), _to_linear(dc & 255))
    }
    for j in range(ny):
        for i in range(nx):
            index = j * stride + i
            if index:
                ac = _decode83(value[4 + 2 * index : 6 + 2 * index])
                quantised = (ac // (19 * 19), (ac // 19) % 19, ac % 19)
                r, g, b = (_sign_square((q - 9) / 9) * maximum for q in quantised)
                colors[index] = (r, g, b)
    cos_x = [[math.cos(math.pi * x * i / width) for x in range(width)] for i in range(nx)]
    cos_y = [[math.cos(math.pi * y * j / height) for y in range(height)] for j in range(ny)]
    # separable: first each row of components along x, then along y (nx*ny*(w+h) work instead of nx*ny*w*h)
    along_x = [
        [tuple(sum(colors[j * stride + i][c] * cos_x[i][x] for i in range(nx)) for c in range(3)) for x in range(width)]
        for j in range(ny)
    ]
    out = bytearray()
    for y in range(height):
        for x in range(width):
            for c in range(3):
                out.append(_to_srgb(sum(along_x[j][x][c] * cos_y[j][y] for j in range(ny))))
    return bytes(out)


def png(rgb: bytes, width: int, height: int) -> bytes:
    """An 8-bit RGB PNG of the pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    stride = 3 * width
    rows = b"".join(b"\x00" + rgb[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def placeholder_size(dim: tuple[int, int] | None) -> tuple[int, int]:
    """The placeholder's pixels: PLACEHOLDER_SIDE on the long side, the media's shape (square when unknown)."""
    if dim is None:
        return PLACEHOLDER_SIDE, PLACEHOLDER_SIDE
    width, height = dim
    scale = PLACEHOLDER_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@lru_cache(maxsize=256)
def data_url(value: str, width: int = PLACEHOLDER_SIDE, height: int = PLACEHOLDER_SIDE) -> str:
    """The hash as a PNG `data:` URL, or "" when it is not a blurhash."""
    try:
        pixels = decode(value, width, height, PLACEHOLDER_COMPONENTS)
    except ValueError:
        return ""
    return "data:image/png;base64," + base64.b64encode(png(pixels, width, height)).decode("ascii")
