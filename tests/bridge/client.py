"""Test client for the Bridge's signed APIs (Blossom upload, bootstrap ping, heartbeat), with the clock given."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from bridge.torrent import build_info
from tests.unit.nostr_keys import sign_event


@dataclass
class Reply:
    """A raw HTTP answer: status, headers and body bytes."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def reason(self) -> str:
        return str(self.headers.get("X-Reason", ""))


def call(
    base: str,
    method: str,
    path: str,
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request to `base` + `path`, every answer returned as is; an iterable body is sent chunked."""
    parts = urlsplit(base)
    assert parts.hostname and parts.port
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def auth_header(event: dict[str, Any]) -> str:
    return "Nostr " + base64.b64encode(json.dumps(event).encode()).decode()


def request(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """(status, JSON body or {}) of one HTTP request; errors are answers too."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw.decode(errors="replace"), "headers": dict(error.headers)}


def blossom_auth(
    secret: str,
    verb: str,
    xs: Iterable[str] = (),
    *,
    now: float | None = None,
    expires_in: int = 600,
    created_at: int | None = None,
    kind: int = 24242,
    tags: list[list[str]] | None = None,
    tamper: bool = False,
) -> str:
    """The Authorization header of a kind 24242 event (Blossom, BUD-11) for `verb` on the blobs `xs`, signed by
    `secret` at `now` (the clock's by default) and expiring `expires_in` s later. The rest makes a wrong one:
    `created_at`, `kind`, `tags` (instead of its t, expiration and x tags), `tamper` (a signature that fails)."""
    now = time.time() if now is None else now
    if tags is None:
        tags = [["t", verb], ["expiration", str(int(now) + expires_in)], *(["x", x] for x in xs)]
    created = int(now) - 1 if created_at is None else created_at
    event = sign_event({"kind": kind, "created_at": created, "tags": tags}, secret)
    if tamper:
        event["sig"] = ("1" if event["sig"][0] != "1" else "2") + event["sig"][1:]
    return auth_header(event)


def upload(server: str, data: bytes, secret: str, *, now: float | None = None, content_type: str = "") -> str:
    """Blossom upload (BUD-02); the blob's URL."""
    authorization = blossom_auth(secret, "upload", [sha(data)], now=now)
    headers = {"Authorization": authorization} | ({"Content-Type": content_type} if content_type else {})
    status, descriptor = request("PUT", f"{server}/upload", data, headers)
    assert status in (200, 201), descriptor
    return str(descriptor["url"])


def signed_post(
    url: str, payload: object, secret: str, *, now: float | None = None, signed_url: str = "", forwarded_for: str = ""
) -> Any:
    """POST `payload` as JSON with a NIP-98 header signed by `secret` (and an X-Forwarded-For, as a reverse proxy
    adds); (status, answer)."""
    body = json.dumps(payload).encode()
    tags = [["u", signed_url or url], ["method", "POST"], ["payload", hashlib.sha256(body).hexdigest()]]
    created = int(time.time() if now is None else now)
    event = sign_event({"kind": 27235, "content": "", "tags": tags, "created_at": created}, secret)
    headers = {"Authorization": auth_header(event), "Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return request("POST", url, body, headers)


def ping_payload(url: str, data: bytes, tracker: str, name: str = "clip.mp4") -> dict[str, str]:
    """The bootstrap ping's body for `data` served at `url`, with the torrent WebTorrent would make."""
    info = build_info([data], name, len(data))
    magnet = f"magnet:?xt=urn:btih:{info.info_hash}&dn={name}&tr={tracker}"
    return {"url": url, "magnet": magnet, "torrent": base64.b64encode(info.info_bytes).decode()}


def info_hash_of(payload: dict[str, str]) -> str:
    return payload["magnet"].split("btih:")[1].split("&")[0]


def heartbeat(bridge: str, reports: dict[str, int], secret: str, *, now: float | None = None) -> Any:
    torrents = [{"info_hash": info_hash, "seeders": seeders} for info_hash, seeders in reports.items()]
    return signed_post(f"{bridge}/api/heartbeat", {"torrents": torrents}, secret, now=now)
