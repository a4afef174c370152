"""The one magnet parser (asknostr.magnet), used by the app and the Bridge."""

from __future__ import annotations

import base64

import pytest

from asknostr import magnet


def test_magnets() -> None:
    ih = "aa" * 20
    parsed = magnet.parse(f"magnet:?xt=urn:btih:{ih.upper()}&dn=clip.mp4&tr=wss%3A%2F%2Ft.example&tr=udp%3A%2F%2Fx")
    assert (parsed.info_hash, parsed.name, parsed.trackers) == (ih, "clip.mp4", ("wss://t.example",))
    b32 = base64.b32encode(bytes.fromhex(ih)).decode()
    assert magnet.parse(f"magnet:?xt=urn:btih:{b32}").info_hash == ih
    for bad in ("http://x", "magnet:?dn=x", "magnet:?xt=urn:btih:1234", "magnet:?xt=urn:btih:" + "!" * 32):
        with pytest.raises(magnet.MagnetError):
            magnet.parse(bad)
