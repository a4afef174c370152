"""Helpers for tests/bridge/test_malformed_input.py: raw requests to a Bridge, the unhandled exceptions it logs,
and the one error shape every 4xx must have."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import sysconfig
import traceback
from typing import Any
from urllib.parse import unquote

from tests.bridge.client import Reply
from tests.unit.nostr_keys import sign_event


class ClientRefused(Exception):
    """http.client would not send this request (a non-ASCII path, a header with a newline…): not the Bridge's."""


def send(
    port: int, method: str, path: str, headers: list[tuple[str, bytes]] | None = None, body: bytes | None = None
) -> Reply:
    """One request, byte for byte as given (header values are raw bytes: UTF-8 reaches the Bridge as UTF-8)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers or []:
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
        except (ValueError, UnicodeError) as exc:  # http.client.InvalidURL is a ValueError
            raise ClientRefused(f"{type(exc).__name__}: {exc}") from None
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


class ServerErrors(logging.Handler):
    """Every record with a traceback the Bridge logs (aiohttp logs an unhandled exception before its 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.records.append(record)

    def since(self, mark: int) -> str:
        """The exceptions logged after `mark` (= len(records) then), each as its type, message and the Bridge's
        line that raised it (the innermost frame in bridge/ or asknostr/), else ''."""
        return "\n".join(_where(record) for record in self.records[mark:])


_STDLIB = sysconfig.get_paths()["stdlib"]


def _where(record: logging.LogRecord) -> str:
    assert record.exc_info is not None
    _type, exc, tb = record.exc_info
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "/bridge/" in f.filename or "/asknostr/" in f.filename]
    libraries = [f for f in frames if not f.filename.startswith(_STDLIB)]  # the Bridge's, aiohttp's…
    lines = [f"{'/'.join(f.filename.split('/')[-2:])}:{f.lineno} {f.name}" for f in (*ours[-2:], *libraries[-1:])]
    message = str(exc)
    if len(message) > 160:
        message = message[:160] + "…"
    return f"{type(exc).__name__}: {message} at {' < '.join(reversed(dict.fromkeys(lines)))}"


def describe(reply: Reply) -> str:
    body = reply.body[:300] + (b"..." if len(reply.body) > 300 else b"")
    return f"{reply.status} Content-Type={reply.headers.get('Content-Type')!r} X-Reason={x_reason(reply)!r} {body!r}"


def x_reason(reply: Reply) -> str | None:
    """X-Reason as the Bridge wrote it (http.client reads header bytes as Latin-1; aiohttp writes UTF-8)."""
    value = reply.headers.get("X-Reason")
    if value is None:
        return None
    try:
        return str(value).encode("latin-1").decode("utf-8")
    except UnicodeError:
        return str(value)


def error_shape_problem(reply: Reply, method: str) -> str | None:
    """Why this 4xx is not `{"error": reason}` (application/json) with the same reason in X-Reason; None if it is.

    A HEAD answer has no body: its X-Reason and content type must still be there."""
    reason = x_reason(reply)
    if not reason:
        return "no X-Reason header"
    if reply.headers.get_content_type() != "application/json":
        return f"content type is {reply.headers.get_content_type()}, not application/json"
    if method == "HEAD":
        return None
    try:
        body: Any = json.loads(reply.body)
    except ValueError:
        return "body is not JSON"
    if body != {"error": reason}:
        return f'body is not {{"error": <X-Reason>}}: {body!r}'
    return None


def assert_error(reply: Reply, method: str, statuses: range | tuple[int, ...] = range(400, 500), log: str = "") -> None:
    """A client error with one of `statuses`, in the one error shape."""
    where = f"\n  Bridge log: {log}" if log else ""
    assert reply.status in statuses, f"expected {statuses}, got {describe(reply)}{where}"
    problem = error_shape_problem(reply, method)
    assert problem is None, f"error shape: {problem}; got {describe(reply)}"


def is_blossom_path(raw_path: str) -> bool:
    """Paths of Blossom's endpoints, which live on the blobs' own origin (the media port)."""
    path = unquote(raw_path.partition("?")[0])
    if path == "/upload" or path.startswith("/list/"):
        return True
    name = path[1:]
    sha, _, _ext = name.partition(".")
    return len(sha) == 64 and all(c in "0123456789abcdef" for c in sha) and "/" not in name


def is_api_path(raw_path: str) -> bool:
    """Paths of the Bridge's own endpoints (API, Blossom, operator views): every 4xx there has the error shape.
    The rest falls to the PWA's static files."""
    path = unquote(raw_path.partition("?")[0])
    if path.startswith("/api/") or path in ("/api", "/upload", "/metrics", "/config.json") or path.startswith("/list/"):
        return True
    name = path[1:]
    sha, _, _ext = name.partition(".")
    return len(sha) == 64 and all(c in "0123456789abcdef" for c in sha) and "/" not in name


def authorization(event: dict[str, Any]) -> bytes:
    return b"Nostr " + base64.b64encode(json.dumps(event).encode())


def http_auth(secret: str, url: str, method: str, payload_sha256: str | None, now: float) -> bytes:
    """A valid NIP-98 Authorization header for `method url` with this body hash."""
    tags = [["u", url], ["method", method]]
    if payload_sha256 is not None:
        tags.append(["payload", payload_sha256])
    return authorization(sign_event({"kind": 27235, "created_at": int(now), "tags": tags}, secret))
