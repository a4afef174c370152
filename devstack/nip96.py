"""A standalone NIP-96 media server (`tools/nip96_server.mjs`): a user's own NIP-96 file storage in tests."""

from __future__ import annotations

from pathlib import Path

from devstack.services import Service, _spawn, node_tool


def start_nip96(
    data_dir: Path,
    port: int,
    *,
    host: str = "127.0.0.1",
    transform: bool = False,
    max_upload_bytes: int | None = None,
    public_url: str | None = None,
    timeout: float = 20.0,
) -> Service:
    """A NIP-96 server on http://host:port, its files under `data_dir`/<name>; not the Bridge.

    Its discovery document is at /.well-known/nostr/nip96.json, uploads at /api/v2/media (NIP-98 signed), files
    at /media/<sha256>[.ext]. With `transform` it stores every upload with a byte appended, as a server that
    recompresses files would (so `x` != `ox`), and the service is named "nip96-transform", so that it can run
    beside a faithful one. Its log has a line per request.
    """
    name = "nip96-transform" if transform else "nip96"
    argv = node_tool("nip96_server.mjs", "the NIP-96 server", port, host)
    argv += ["--dir", str(data_dir / name)]
    if public_url is not None:
        argv += ["--public-url", public_url]
    if max_upload_bytes is not None:
        argv += ["--max-upload-bytes", str(max_upload_bytes)]
    if transform:
        argv.append("--transform")
    return _spawn(name, argv, data_dir / "logs", f"http://{host}:{port}", port, host, timeout)
