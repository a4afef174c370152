"""`make run`'s stack: every service up on the chosen ports, the PWA served, Ctrl-C stops the whole tree."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from devstack.processes import descendants
from devstack.services import ROOT, ServiceError, free_port, start_relay


def test_run_command_starts_the_stack_and_ctrl_c_stops_all_of_it(tmp_path: Path) -> None:
    ports = [free_port() for _ in range(4)]
    argv = [sys.executable, "-m", "devstack", "--data-dir", str(tmp_path)]
    argv += ["--port", str(ports[0]), "--relay-port", str(ports[1]), "--tracker-port", str(ports[2])]
    argv += ["--media-port", str(ports[3])]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    watchdog = threading.Timer(90, process.kill)  # readline() must not wait forever on a silent child
    watchdog.start()
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "is running: open" in line or not line:
            break
    app_url = f"http://127.0.0.1:{ports[0]}/"
    assert f"open {app_url}" in lines[-1], "".join(lines)
    children = descendants(process.pid)
    assert len(children) >= 3  # relay, tracker, bridge

    with urllib.request.urlopen(app_url) as response:
        assert b"AskNostr Social Swarm" in response.read()
    with urllib.request.urlopen(app_url + "config.json") as response:
        config = json.loads(response.read())
    assert config == {
        "relays": [f"ws://127.0.0.1:{ports[1]}"],
        "trackers": [f"ws://127.0.0.1:{ports[2]}"],
        "bridge": f"http://127.0.0.1:{ports[0]}",
        "bridge_media": f"http://127.0.0.1:{ports[3]}",
        "max_upload_bytes": 4 * 1024**3,
        "heartbeat_interval": 60.0,
        "ice_servers": [],
        "turn": False,
    }
    assert (tmp_path / "relay" / "relay.sqlite3").exists()

    process.send_signal(signal.SIGINT)
    assert process.wait(20) == 0
    watchdog.cancel()
    time.sleep(0.5)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]
    assert alive == [], f"left running: {alive}"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_port_in_use_is_reported_not_mistaken_for_the_service(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(ServiceError, match=f"127.0.0.1:{port} is already in use"):
            start_relay(tmp_path, port)
