"""Ports a browser refuses to connect to (the Fetch standard's "bad ports", its section "port blocking": mail, FTP,
SSH, IRC…): a relay or a media server there can never be reached from the app, so its address is refused when it is
entered, in the app's words, instead of "reconnecting" for ever."""

from __future__ import annotations

BLOCKED_PORTS = frozenset(
    {1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109}
    | {110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526}
    | {530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659}
    | {4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}
)


def check_port(port: int | None, what: str) -> None:
    """ValueError when browsers refuse `port` (None: the scheme's default, which they allow); `what`: "a relay"…"""
    if port is not None and (port == 0 or port in BLOCKED_PORTS):
        raise ValueError(f"browsers refuse to connect to port {port}: that cannot be {what}'s address")
