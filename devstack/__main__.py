"""`python -m devstack`: run the whole local stack in one process tree until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from devstack.services import (
    LOCAL_S3_CREDENTIALS,
    ROOT,
    Service,
    ServiceError,
    free_port,
    start_balancer,
    start_bridge,
    start_postgres,
    start_relay,
    start_seaweedfs,
    start_tracker,
    stop_all,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address every service listens on")
    parser.add_argument("--port", type=int, default=8700, help="the Bridge / PWA (HTTP)")
    parser.add_argument("--relay-port", type=int, default=8701, help="the Nostr relay (WebSocket)")
    parser.add_argument("--tracker-port", type=int, default=8702, help="the WebTorrent tracker (WebSocket)")
    parser.add_argument("--media-port", type=int, default=8703, help="the Bridge's blobs, on their own origin (HTTP)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".data", help="relay database, logs, blobs")
    parser.add_argument(
        "--fleet",
        type=int,
        default=0,
        metavar="N",
        help="run N Bridges sharing PostgreSQL and SeaweedFS (S3) behind one address (Caddy) instead of one Bridge",
    )
    args = parser.parse_args(argv)
    if args.fleet < 0 or args.fleet > 16:
        parser.error("--fleet takes 1 to 16 Bridges (0: one Bridge on its own disk)")
    return args


def start_fleet(args: argparse.Namespace, data_dir: Path, relays: list[str], trackers: list[str]) -> list[Service]:
    """PostgreSQL, SeaweedFS, `args.fleet` Bridges on ports of their own, and Caddy spreading the app's port over
    them (round robin) and the blobs' port by client address (a resumable upload's requests reach one instance)."""
    host = args.host
    # each Bridge: a pool of up to 10 connections for statements and 10 for the blobs' locks
    connections = 50 + 20 * args.fleet
    services = [
        start_postgres(data_dir, free_port(host), host=host, max_connections=connections),
        start_seaweedfs(data_dir, host=host),
    ]
    database, store = services[0].url, services[1].url
    public, media = f"http://{host}:{args.port}", f"http://{host}:{args.media_port}"
    shared = ("--database-url", database, "--s3-endpoint", store, "--public-url", public, "--media-url", media)
    bridges = [
        start_bridge(
            data_dir,
            free_port(host),
            host=host,
            relays=relays,
            trackers=trackers,
            extra_args=(*shared, "--trusted-proxy", host),
            env=LOCAL_S3_CREDENTIALS,
            name=f"bridge-{n + 1}",
        )
        for n in range(args.fleet)
    ]
    services += bridges
    app = [urlsplit(bridge.url).netloc for bridge in bridges]
    blobs = [urlsplit(bridge.extra["media_url"]).netloc for bridge in bridges]
    balancer = start_balancer(data_dir, {args.port: (app, "round_robin"), args.media_port: (blobs, "ip_hash")})
    balancer.extra["media_url"] = media
    return [*services, balancer]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir: Path = args.data_dir.resolve()
    services: list[Service] = []
    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        services.append(start_relay(data_dir, args.relay_port, host=args.host))
        services.append(start_tracker(data_dir, args.tracker_port, host=args.host))
        relays, trackers = [services[0].url], [services[1].url]
        if args.fleet:
            services += start_fleet(args, data_dir, relays, trackers)
        else:
            services.append(
                start_bridge(
                    data_dir, args.port, host=args.host, media_port=args.media_port, relays=relays, trackers=trackers
                )
            )
        front = services[-1]
        for service in services:
            print(f"  {service.name:<10} {service.url}   (log: {service.log_path})")
        print(f"  {'blobs':<10} {front.extra['media_url']}   (the Bridge's Blossom server, an origin of its own)")
        print(f"\nAskNostr Social Swarm is running: open {services[-1].url}/  (Ctrl-C stops everything)")
        sys.stdout.flush()
        while not stopping:
            dead = [s for s in services if not s.alive()]
            if dead:
                for s in dead:
                    print(f"{s.name} stopped unexpectedly:\n{s.log_tail()}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except ServiceError as exc:
        print(f"could not start the stack: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_all(services)
        print("stopped.")


if __name__ == "__main__":
    sys.exit(main())
