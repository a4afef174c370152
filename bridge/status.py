"""Operator views: `GET /api/torrents/<infoHash>` (JSON status) and `GET /metrics` (Prometheus text format)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bridge.db import HANDED_OFF, MISSING, SEEDING
from bridge.errors import BridgeError
from bridge.step_back import FULL, SHARE, TRICKLE
from bridge.swarm import SWARM_KEY, SwarmKeeper

PREFIX = "asknostr_bridge"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def torrent_status(request: web.Request) -> web.Response:
    status = await request.app[SWARM_KEY].status(request.match_info["info_hash"].lower())
    if status is None:
        raise BridgeError(404, "no such torrent on this Bridge")
    return web.json_response(status)


@dataclass(frozen=True, eq=False)  # hashable by identity: the registry keys collectors
class Snapshot(Collector):
    """The figures of one scrape, gathered (asynchronously) before prometheus_client renders them."""

    torrents: dict[str, tuple[int, int]]
    blobs: tuple[int, int]
    peers: int
    uploaded: int
    keeper: SwarmKeeper
    modes: dict[str, int]
    """Torrents seeded, by step-back mode (bridge.step_back)."""

    def collect(self) -> Iterator[Metric]:
        torrents = GaugeMetricFamily(f"{PREFIX}_torrents", "Torrents the Bridge knows, by state", labels=["state"])
        size = GaugeMetricFamily(f"{PREFIX}_torrent_bytes", "Size of those torrents, by state", labels=["state"])
        for state in (SEEDING, HANDED_OFF, MISSING):
            count, total = self.torrents.get(state, (0, 0))
            torrents.add_metric([state], count)
            size.add_metric([state], total)
        yield torrents
        yield size
        yield GaugeMetricFamily(f"{PREFIX}_blobs", "Blobs in the Blossom store", value=self.blobs[0])
        yield GaugeMetricFamily(f"{PREFIX}_blob_bytes", "Bytes in the Blossom store", value=self.blobs[1])
        yield GaugeMetricFamily(f"{PREFIX}_peers", "Peers connected to the Bridge's torrents", value=self.peers)
        modes = GaugeMetricFamily(
            f"{PREFIX}_seeding_mode", "Torrents seeded, by how fast the Bridge sends them (step-back)", labels=["mode"]
        )
        for mode in (FULL, SHARE, TRICKLE):
            modes.add_metric([mode], self.modes.get(mode, 0))
        yield modes
        yield CounterMetricFamily(
            f"{PREFIX}_uploaded_bytes", "Payload bytes seeded to peers since start", value=self.uploaded
        )
        counters = self.keeper.counters
        yield CounterMetricFamily(f"{PREFIX}_heartbeats", "Heartbeats accepted", value=counters.heartbeats)
        yield CounterMetricFamily(
            f"{PREFIX}_heartbeat_reports", "Torrent reports in accepted heartbeats", value=counters.heartbeat_reports
        )
        refused = CounterMetricFamily(f"{PREFIX}_heartbeats_refused", "Heartbeats refused", labels=["reason"])
        for reason in ("auth", "malformed", "rate"):
            refused.add_metric([reason], counters.heartbeats_refused.get(reason, 0))
        yield refused
        yield CounterMetricFamily(f"{PREFIX}_handoffs", "Torrents handed off to the swarm", value=counters.handoffs)
        yield CounterMetricFamily(
            f"{PREFIX}_take_backs",
            "Handed-off torrents downloaded back from their swarm and seeded again",
            value=counters.take_backs,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_retention_passes", "Runs of the retention job", value=counters.retention_passes
        )
        yield CounterMetricFamily(
            f"{PREFIX}_possession_rounds",
            "Rounds of the possession check (a swarm asked for pieces chosen at random)",
            value=counters.possession_rounds,
        )


async def metrics(request: web.Request) -> web.Response:
    keeper = request.app[SWARM_KEY]
    db = keeper.database()
    statuses = [s for s in map(keeper.seeder.status, list(keeper.seeder.handles)) if s is not None]
    snapshot = Snapshot(
        await db.torrent_totals(),
        await db.blob_totals(),
        sum(s.peers for s in statuses),
        keeper.seeder.uploaded_before + sum(s.uploaded for s in statuses),
        keeper,
        dict(Counter(s.mode for s in statuses)),
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(snapshot)
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE})


def add_status_routes(app: web.Application) -> None:
    """Needs the app's SwarmKeeper (SWARM_KEY) first."""
    app.router.add_get("/api/torrents/{info_hash:[0-9a-fA-F]{40}}", torrent_status)
    app.router.add_get("/metrics", metrics)
