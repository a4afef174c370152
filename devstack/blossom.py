"""A standalone Blossom media server (`tools/blossom_server.mjs`): a user's own preferred media server in tests."""

from __future__ import annotations

from pathlib import Path

from devstack.services import Service, _spawn, node_tool


def start_blossom(
    data_dir: Path,
    port: int,
    *,
    host: str = "127.0.0.1",
    fail_uploads: int | None = None,
    max_upload_bytes: int | None = None,
    public_url: str | None = None,
    timeout: float = 20.0,
) -> Service:
    """A Blossom server on http://host:port, its blobs under `data_dir`/<name>; not the Bridge.

    With `fail_uploads` every upload is answered with that HTTP status (a broken server) and the service is
    named "blossom-failing", so that it can run beside a working one. Its log has a line per request.
    """
    name = "blossom" if fail_uploads is None else "blossom-failing"
    argv = node_tool("blossom_server.mjs", "the Blossom server", port, host)
    argv += ["--dir", str(data_dir / name)]
    if public_url is not None:
        argv += ["--public-url", public_url]
    if max_upload_bytes is not None:
        argv += ["--max-upload-bytes", str(max_upload_bytes)]
    if fail_uploads is not None:
        argv += ["--fail-uploads", str(fail_uploads)]
    return _spawn(name, argv, data_dir / "logs", f"http://{host}:{port}", port, host, timeout)
