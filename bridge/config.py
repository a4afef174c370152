"""The Bridge's settings, from the command line."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024**3
"""4 GiB: a long video. Uploads stream to disk (never whole in memory), so the limit is the disk's, not RAM's."""
DEFAULT_UPLOAD_EXPIRY_HOURS = 24.0


@dataclass(frozen=True)
class BridgeConfig:
    host: str = "127.0.0.1"
    port: int = 8700
    web_root: Path = DEFAULT_WEB_ROOT
    data_dir: Path = Path(".data/bridge")
    database_url: str = field(default="", repr=False)
    """postgresql://user@host:port/name: the state a fleet of Bridges shares; empty for SQLite in data_dir."""
    s3_endpoint: str = ""
    """The S3 object store a fleet keeps its blobs in (http(s)://host:port); empty for blobs in data_dir."""
    s3_bucket: str = "asknostr-blobs"
    s3_region: str = "us-east-1"
    lease_ttl: float = 30.0
    """Seconds an instance's lease on the torrents it seeds lasts unless renewed: how soon the others take over
    the torrents of one that died."""
    relays: tuple[str, ...] = ()
    trackers: tuple[str, ...] = ()
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    """The largest blob, for every way in: BUD-02 PUT, BUD-06 HEAD /upload and resumable uploads alike (told to
    the app in /config.json)."""
    upload_ttl: float = DEFAULT_UPLOAD_EXPIRY_HOURS * 3600
    """Seconds a resumable upload lives after its last append; then it and its part file are deleted."""
    public_url: str = ""
    """The app's public base URL (the PWA and the API; NIP-98 requests are signed for it); empty for
    http://host:port."""
    media_port: int = 8703
    """The port of the blobs' own origin: Blossom (uploads, blobs, lists) answers there and nowhere else, so a
    blob never shares the app's origin (its IndexedDB, where a local key lives)."""
    media_url: str = ""
    """The public base URL of that origin (a host of its own in a public deployment, e.g.
    https://media.example.com); empty for http://host:media_port."""
    fetch_allow_hosts: tuple[str, ...] = ()
    handoff_seeders: int = 10
    take_back_below: int = 3
    """A handed-off torrent is downloaded back and seeded again when fewer seeders than this prove they hold it."""
    handoff_age: float = 24 * 3600
    step_back_holders: int = 3
    """The Bridge only trickles a swarm once every piece is held by this many peers connected to it
    (bridge.step_back); 0: it seeds at full speed always."""
    step_back_share_rate: int = 256 * 1024
    """Bytes/s it sends of a swarm whose every piece has another holder it can see."""
    step_back_rate: int = 32 * 1024
    """Bytes/s it still sends of a swarm that carries itself."""
    proof_window: float = 3600
    """Seconds a seeder's proof of possession counts (bridge.swarm_health.ProofBook)."""
    retention_interval: float = 600
    heartbeat_ttl: float = 180
    heartbeat_interval: float = 60
    """Seconds between a browser's heartbeats (told to the PWA)."""
    stun: str = ""
    """A STUN server (host:port) for WebRTC, for the Bridge and offered to browsers; none by default (a local or
    offline deployment: host candidates only)."""
    heartbeat_per_key_per_minute: float = 6
    heartbeat_per_address_per_minute: float = 600
    turn: tuple[str, ...] = ()
    """`turn:`/`turns:` URLs of the deployment's TURN server (coturn with `use-auth-secret`); none by default."""
    turn_secret: str = field(default="", repr=False)
    """The secret shared with the TURN server (`static-auth-secret`), read from --turn-secret-file."""
    turn_ttl: float = 3600
    """Seconds a TURN credential lasts; the app asks for a new one before."""
    turn_per_key_per_minute: float = 6
    turn_per_address_per_minute: float = 120
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies whose X-Forwarded-For names the client (rate limits per address count clients, not the
    proxy); none by default."""

    def stun_urls(self) -> tuple[str, ...]:
        return (f"stun:{self.stun}",) if self.stun else ()

    def _local(self, port: int) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}"

    def app_url(self) -> str:
        """The base URL of the PWA and the API, without a trailing slash."""
        return self.public_url.rstrip("/") or self._local(self.port)

    def blossom_url(self) -> str:
        """The base URL of this Bridge's Blossom server and its blobs (their own origin), without a trailing slash."""
        return self.media_url.rstrip("/") or self._local(self.media_port)

    def client_config(self) -> dict[str, object]:
        """What the PWA reads from /config.json: this deployment's default relays and trackers, the Bridge's API
        (pings, heartbeats), its Blossom server (the media server of last resort, on the blobs' own origin) and
        the WebRTC ICE servers (none: host candidates only)."""
        return {
            "relays": list(self.relays),
            "trackers": list(self.trackers),
            "bridge": self.app_url(),
            "bridge_media": self.blossom_url(),
            "max_upload_bytes": self.max_upload_bytes,
            "heartbeat_interval": self.heartbeat_interval,
            "ice_servers": [{"urls": url} for url in self.stun_urls()],
            # TURN needs a credential: the app asks POST /api/turn (signed) for one, and for the next before it expires
            "turn": bool(self.turn and self.turn_secret),
        }


def parse_args(argv: list[str] | None = None) -> BridgeConfig:
    parser = argparse.ArgumentParser(prog="bridge", description="The AskNostr Bridge (serves the PWA).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--web-root", type=Path, default=DEFAULT_WEB_ROOT, help="the PWA's files")
    parser.add_argument("--data-dir", type=Path, default=Path(".data/bridge"))
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL, postgresql://user@host:port/database, shared by a fleet of Bridges (default: SQLite in"
        " --data-dir); give the password in PGPASSWORD or ~/.pgpass, not here",
    )
    parser.add_argument(
        "--s3-endpoint",
        default="",
        help="S3 object store for the blobs, shared by a fleet (e.g. http://127.0.0.1:8333; default: blobs in"
        " --data-dir); credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or ~/.aws/credentials",
    )
    parser.add_argument("--s3-bucket", default="asknostr-blobs", help="the bucket (created if missing)")
    parser.add_argument("--s3-region", default="us-east-1", help="the bucket's region (default us-east-1)")
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=30.0,
        help="a fleet's instance that stops renewing its torrents' leases for this long loses them to the others"
        " (default 30)",
    )
    parser.add_argument("--relay", action="append", default=[], help="default relay offered to the PWA")
    parser.add_argument("--tracker", action="append", default=[], help="WebTorrent tracker offered to the PWA")
    parser.add_argument(
        "--max-upload-bytes",
        type=int,
        default=DEFAULT_MAX_UPLOAD_BYTES,
        help="largest upload in bytes, plain or resumable (default 4 GiB)",
    )
    parser.add_argument(
        "--upload-expiry-hours",
        type=float,
        default=DEFAULT_UPLOAD_EXPIRY_HOURS,
        help="an unfinished resumable upload is deleted this long after its last append (default 24)",
    )
    parser.add_argument(
        "--fetch-allow-host",
        action="append",
        default=[],
        help="dev/test only: a host the bootstrap ping may fetch from although it is not public (e.g. 127.0.0.1)",
    )
    parser.add_argument(
        "--public-url", default="", help="public base URL of the app and API (default: http://host:port)"
    )
    parser.add_argument(
        "--media-port", type=int, default=8703, help="port of the blobs' own origin, Blossom (default 8703)"
    )
    parser.add_argument(
        "--media-url",
        default="",
        help="public base URL of the blobs' origin: another host or port than the app's (default: http://host:media-port)",
    )
    parser.add_argument("--stun", default="", help="STUN server host:port for WebRTC (default: none)")
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        help="address of a reverse proxy whose X-Forwarded-For is believed (e.g. 127.0.0.1 behind Caddy)",
    )
    ice = parser.add_argument_group("TURN (browsers behind symmetric NATs)")
    ice.add_argument("--turn", action="append", default=[], help="a turn: or turns: URL of the TURN server")
    ice.add_argument(
        "--turn-secret-file", type=Path, help="file holding the secret shared with the TURN server (static-auth-secret)"
    )
    ice.add_argument("--turn-ttl", type=float, default=3600.0, help="seconds a TURN credential lasts (default 3600)")
    ice.add_argument(
        "--turn-per-key", type=float, default=6.0, help="TURN credentials a minute per pubkey (default 6; 0: no limit)"
    )
    ice.add_argument(
        "--turn-per-address",
        type=float,
        default=120.0,
        help="TURN credentials a minute per client address (default 120; 0: no limit)",
    )
    swarm = parser.add_argument_group("swarm health and retention")
    swarm.add_argument(
        "--handoff-seeders",
        type=int,
        default=10,
        help="hand a torrent off to the swarm once MORE than this many seeders proved they hold it (default 10)",
    )
    swarm.add_argument(
        "--take-back-below",
        type=int,
        default=3,
        help="take a handed-off torrent back (download it from its swarm, store and seed it) when fewer than this"
        " many seeders prove they hold it (default 3; 0: never)",
    )
    swarm.add_argument(
        "--step-back-holders",
        type=int,
        default=3,
        help="send a swarm's pieces at full speed only while the Bridge is their only source, at"
        " --step-back-share-rate once browsers hold every piece, and at --step-back-rate once each piece is held by"
        " this many peers connected to it (default 3; 0: always full speed)",
    )
    swarm.add_argument(
        "--step-back-share-rate",
        type=int,
        default=256 * 1024,
        help="bytes/s the Bridge sends of a swarm whose every piece has another holder (default 262144)",
    )
    swarm.add_argument(
        "--step-back-rate",
        type=int,
        default=32 * 1024,
        help="bytes/s the Bridge still sends of a swarm that carries itself (default 32768)",
    )
    swarm.add_argument(
        "--handoff-age-hours", type=float, default=24.0, help="...and it is older than this (default 24)"
    )
    swarm.add_argument(
        "--proof-window",
        type=float,
        default=3600.0,
        help="seconds a seeder's proof that it holds a torrent counts toward a handoff (default 3600)",
    )
    swarm.add_argument(
        "--retention-interval", type=float, default=600.0, help="seconds between retention runs (default 600; 0: off)"
    )
    swarm.add_argument(
        "--heartbeat-interval", type=float, default=60.0, help="seconds between browsers' heartbeats (default 60)"
    )
    swarm.add_argument(
        "--heartbeat-ttl", type=float, default=180.0, help="seconds a heartbeat's vote counts (default 180)"
    )
    swarm.add_argument(
        "--heartbeats-per-key", type=float, default=6.0, help="heartbeats a minute per pubkey (default 6; 0: no limit)"
    )
    swarm.add_argument(
        "--heartbeats-per-address",
        type=float,
        default=600.0,
        help="heartbeats a minute per client address (default 600; 0: no limit)",
    )
    ns = parser.parse_args(argv)
    for proxy in ns.trusted_proxy:
        try:
            ipaddress.ip_address(proxy)
        except ValueError:
            parser.error(f"--trusted-proxy must be an IP address, not {proxy!r}")
    turn_secret = ""
    if ns.turn_secret_file is not None:
        try:
            turn_secret = ns.turn_secret_file.read_text().strip()
        except OSError as exc:
            parser.error(f"cannot read --turn-secret-file: {exc.strerror}")
    if not 60 <= ns.turn_ttl <= 86400:  # also refuses nan and inf
        parser.error("--turn-ttl must be from 60 to 86400 seconds")
    for url in ns.turn:
        if not url.startswith(("turn:", "turns:")) or not url.split(":", 1)[1]:
            parser.error(f"--turn takes turn: or turns: URLs, not {url!r}")
    if ns.stun and (":" not in ns.stun or ns.stun.startswith(("stun:", "stuns:"))):
        parser.error(f"--stun takes host:port (no stun: prefix), not {ns.stun!r}")
    if ns.database_url and not ns.database_url.startswith(("postgresql://", "postgres://")):
        parser.error(f"--database-url takes a postgresql:// URL, not {ns.database_url!r}")
    if ns.s3_endpoint and not ns.s3_endpoint.startswith(("http://", "https://")):
        parser.error(f"--s3-endpoint takes an http:// or https:// URL, not {ns.s3_endpoint!r}")
    if not 3 <= ns.lease_seconds <= 3600:  # also refuses nan and inf
        parser.error("--lease-seconds must be from 3 to 3600")
    if ns.take_back_below < 0 or ns.take_back_below > ns.handoff_seeders:
        parser.error("--take-back-below must be from 0 to --handoff-seeders (else a torrent would bounce back at once)")
    if not 0 <= ns.step_back_holders <= 1000:
        parser.error("--step-back-holders must be from 0 to 1000")
    if not 1 <= ns.step_back_rate <= ns.step_back_share_rate:
        parser.error("--step-back-rate must be at least 1 byte/s and at most --step-back-share-rate")
    if ns.max_upload_bytes < 1:
        parser.error("--max-upload-bytes must be at least 1")
    if not 0 < ns.upload_expiry_hours <= 24 * 365:  # also refuses nan and inf
        parser.error("--upload-expiry-hours must be more than 0 and at most a year")
    if bool(ns.turn) != bool(turn_secret):
        parser.error("--turn and --turn-secret-file go together (coturn checks the credentials with that secret)")
    return BridgeConfig(
        host=ns.host,
        port=ns.port,
        web_root=ns.web_root.resolve(),
        data_dir=ns.data_dir,
        database_url=ns.database_url,
        s3_endpoint=ns.s3_endpoint,
        s3_bucket=ns.s3_bucket,
        s3_region=ns.s3_region,
        lease_ttl=ns.lease_seconds,
        relays=tuple(ns.relay),
        trackers=tuple(ns.tracker),
        max_upload_bytes=ns.max_upload_bytes,
        upload_ttl=ns.upload_expiry_hours * 3600,
        public_url=ns.public_url,
        media_port=ns.media_port,
        media_url=ns.media_url,
        fetch_allow_hosts=tuple(ns.fetch_allow_host),
        stun=ns.stun,
        handoff_seeders=ns.handoff_seeders,
        take_back_below=ns.take_back_below,
        handoff_age=ns.handoff_age_hours * 3600,
        step_back_holders=ns.step_back_holders,
        step_back_share_rate=ns.step_back_share_rate,
        step_back_rate=ns.step_back_rate,
        proof_window=ns.proof_window,
        retention_interval=ns.retention_interval,
        heartbeat_ttl=ns.heartbeat_ttl,
        heartbeat_interval=ns.heartbeat_interval,
        heartbeat_per_key_per_minute=ns.heartbeats_per_key,
        heartbeat_per_address_per_minute=ns.heartbeats_per_address,
        trusted_proxies=tuple(ns.trusted_proxy),
        turn=tuple(ns.turn),
        turn_secret=turn_secret,
        turn_ttl=ns.turn_ttl,
        turn_per_key_per_minute=ns.turn_per_key,
        turn_per_address_per_minute=ns.turn_per_address,
    )
