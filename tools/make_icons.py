"""Draw the app icons (PNG, standard library only): a swarm of linked dots on the brand colour.

`python tools/make_icons.py` rewrites web/static/icons/; the PNGs are committed.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "icons"
BG_TOP, BG_BOTTOM = (124, 77, 255), (74, 35, 168)
FG = (255, 255, 255)
NODES = [(0.5, 0.3), (0.3, 0.62), (0.7, 0.62), (0.5, 0.5)]
EDGES = [(0, 1), (0, 2), (1, 2), (3, 0), (3, 1), (3, 2)]


def png(width: int, pixels: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + row for row in pixels)
    header = struct.pack(">IIBBBBB", width, len(pixels), 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def segment_distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def draw(size: int, *, maskable: bool, rounded: bool) -> bytes:
    scale = 0.72 if maskable else 0.9  # maskable icons keep their content inside the central safe circle
    radius = 0.22 * size if rounded else 0.0
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            # outside the rounded corners: transparent
            cx = min(max(x + 0.5, radius), size - radius)
            cy = min(max(y + 0.5, radius), size - radius)
            if radius and math.hypot(x + 0.5 - cx, y + 0.5 - cy) > radius:
                row += bytes((0, 0, 0, 0))
                continue
            t = y / size
            color = [round(BG_TOP[i] * (1 - t) + BG_BOTTOM[i] * t) for i in range(3)]
            u = ((x + 0.5) / size - 0.5) / scale + 0.5
            v = ((y + 0.5) / size - 0.5) / scale + 0.5
            near_node = min(math.hypot(u - nx, v - ny) for nx, ny in NODES)
            near_edge = min(segment_distance(u, v, NODES[i], NODES[j]) for i, j in EDGES)
            coverage = max(
                min(1.0, max(0.0, (0.085 - near_node) * size * scale)),
                min(1.0, max(0.0, (0.018 - near_edge) * size * scale)) * 0.85,
            )
            row += bytes([round(color[i] * (1 - coverage) + FG[i] * coverage) for i in range(3)] + [255])
        rows.append(bytes(row))
    return png(size, rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(draw(size, maskable=False, rounded=True))
        (OUT / f"maskable-{size}.png").write_bytes(draw(size, maskable=True, rounded=False))
    (OUT / "apple-touch-icon.png").write_bytes(draw(180, maskable=True, rounded=False))
    (OUT / "favicon-32.png").write_bytes(draw(32, maskable=False, rounded=True))


if __name__ == "__main__":
    main()
