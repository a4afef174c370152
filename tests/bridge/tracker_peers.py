"""Seeders as the WebSocket tracker sees them: one socket per peer announcing `left: 0` (no WebRTC behind it).

They stand for real browsers seeding the torrent, so that the tracker's scrape (which the Bridge checks heartbeat
votes against) reports them, on the real tracker.
"""

from __future__ import annotations

import hashlib
import json

import aiohttp


class TrackerSeeders:
    def __init__(self, tracker: str, info_hash: str, count: int) -> None:
        self.tracker, self.info_hash, self.count = tracker, info_hash, count
        self.session: aiohttp.ClientSession | None = None
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def announce(self) -> None:
        self.session = aiohttp.ClientSession()
        binary_hash = bytes.fromhex(self.info_hash).decode("latin-1")
        for n in range(self.count):
            peer_id = hashlib.sha1(f"{self.info_hash}{n}".encode()).digest().decode("latin-1")
            ws = await self.session.ws_connect(self.tracker)
            announce = {
                "action": "announce",
                "info_hash": binary_hash,
                "peer_id": peer_id,
                "event": "started",
                "left": 0,
                "uploaded": 0,
                "downloaded": 0,
                "numwant": 0,
                "offers": [],
            }
            await ws.send_str(json.dumps(announce))
            answer = json.loads((await ws.receive()).data)
            assert "failure reason" not in answer, answer
            self.sockets.append(ws)

    async def leave(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self.session is not None:
            await self.session.close()
