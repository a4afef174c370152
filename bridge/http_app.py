"""The Bridge's HTTP layer: a thin skin of routes over plain functions, and the wiring of its parts.

Two origins: the app's (the PWA, /config.json and the API) and the blobs' own (Blossom, bridge.blossom). What users
upload is served only from the second, so no upload ever runs with the app's IndexedDB, where a local key lives.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

from aiohttp import web

from bridge.blossom import BLOB_ROUTE, STORAGE_KEY, make_media_app, to_media_origin
from bridge.bootstrap import add_bootstrap_routes
from bridge.client_address import trusting
from bridge.config import BridgeConfig
from bridge.errors import bridge_errors
from bridge.heartbeat import add_heartbeat_routes
from bridge.leases import LeaseJob, Member, instance_name
from bridge.possession import PossessionVerifier
from bridge.pwa import add_pwa_routes, pwa_headers
from bridge.resumable import UPLOADS_KEY, ResumableUploads
from bridge.seeder import PEER_FINGERPRINT, Seeder
from bridge.status import add_status_routes
from bridge.step_back import StepBack
from bridge.storage import Storage
from bridge.swarm import SWARM_KEY, SwarmKeeper
from bridge.swarm_health import HandoffPolicy, ProofBook
from bridge.tracker_scrape import scrape_all
from bridge.turn import add_turn_routes


def origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def make_app(
    config: BridgeConfig, *, clock: Callable[[], float] = time.time, media_socket: socket.socket | None = None
) -> web.Application:
    """The whole Bridge: the app's origin, which also starts the blobs' origin (on `media_socket` when given,
    else on config.host:config.media_port). `clock` (seconds since the epoch) is injectable: tests move time."""
    if origin(config.app_url()) == origin(config.blossom_url()):
        raise ValueError("the blobs' URL must not be the app's origin: give it another port or host")
    storage = Storage(
        config.data_dir,
        config.app_url(),
        config.blossom_url(),
        config.max_upload_bytes,
        clock,
        database_url=config.database_url,
        s3_endpoint=config.s3_endpoint,
        s3_bucket=config.s3_bucket,
        s3_region=config.s3_region,
    )
    app = web.Application(middlewares=[trusting(config.trusted_proxies), pwa_headers, bridge_errors])
    app[STORAGE_KEY] = storage
    member = Member(instance_name(config.data_dir), config.lease_ttl)
    uploads = ResumableUploads(storage, config.upload_ttl, member)
    app[UPLOADS_KEY] = uploads  # served on the blobs' origin; reachable here for the tests' clock

    async def client_config(_request: web.Request) -> web.Response:
        return web.json_response(config.client_config())

    app.router.add_get("/config.json", client_config)
    app.router.add_get(BLOB_ROUTE, to_media_origin)  # before the PWA's files, whose route matches every path
    keeper = SwarmKeeper(
        storage,
        Seeder(
            config.data_dir / "seeding",
            stun_server=config.stun,
            step_back=StepBack(config.step_back_holders, config.step_back_share_rate, config.step_back_rate),
            scraper=scrape_all,
            scrape_trackers=config.trackers,
        ),
        verifier=PossessionVerifier(
            config.data_dir / "verifying",
            stun_server=config.stun,
            exclude_peer_ids=(PEER_FINGERPRINT.encode(),),
            clock=clock,
        ),
        proofs=ProofBook(config.proof_window),
        votes_ttl=config.heartbeat_ttl,
        policy=HandoffPolicy(config.handoff_seeders, config.handoff_age, config.take_back_below),
        clock=clock,
        scrape_trackers=config.trackers,
        member=member,
    )
    app[SWARM_KEY] = keeper
    lease_job = LeaseJob(keeper)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await storage.open()
        await uploads.open()  # unfinished resumable uploads carry on after a restart; expired ones go
        media = web.AppRunner(make_media_app(storage, uploads))
        await media.setup()
        if media_socket is not None:
            await web.SockSite(media, media_socket).start()
        else:
            await web.TCPSite(media, config.host, config.media_port).start()
        # seed again what was seeded before a restart, and what no instance of the fleet holds
        keeper.seeder.start()
        keeper.verifier.start()
        lease_job.start()  # renewals go on while the resume fetches blobs
        await keeper.resume()
        keeper.start(config.retention_interval)
        yield
        await keeper.close()
        await lease_job.close()
        await keeper.seeder.close()
        keeper.verifier.close()
        await media.cleanup()
        await uploads.close()
        await storage.close()

    app.cleanup_ctx.append(lifecycle)
    add_bootstrap_routes(app, trackers=config.trackers, fetch_allow_hosts=frozenset(config.fetch_allow_hosts))
    add_heartbeat_routes(
        app,
        per_key_per_minute=config.heartbeat_per_key_per_minute,
        per_address_per_minute=config.heartbeat_per_address_per_minute,
    )
    add_turn_routes(
        app,
        storage,
        urls=config.turn,
        secret=config.turn_secret,
        ttl=config.turn_ttl,
        stun=config.stun_urls(),
        per_key_per_minute=config.turn_per_key_per_minute,
        per_address_per_minute=config.turn_per_address_per_minute,
    )
    add_status_routes(app)
    add_pwa_routes(app, config.web_root)
    return app
