"""The machine's processes as Linux shows them in /proc: which descend from one, and the CPU time each has used
(the e2e test of `make run` looks for what it left running; bench/p2p_throughput.py measures the browser's CPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Process:
    parent: int
    cpu_seconds: float  # user + system, so far
    command: bytes  # argv[0]


def processes() -> dict[int, Process]:
    """Every process there is now, by pid (one that ends while it is read is left out)."""
    found: dict[int, Process] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, … utime (12th), stime
        found[int(entry.name)] = Process(int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, command)
    return found


def descendants(pid: int, table: dict[int, Process] | None = None) -> set[int]:
    """Every process descended from `pid` (children, theirs, and so on), in `table` or in the machine's now."""
    table = processes() if table is None else table
    children: dict[int, list[int]] = {}
    for child, process in table.items():
        children.setdefault(process.parent, []).append(child)
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found
