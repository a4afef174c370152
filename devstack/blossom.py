"""A standalone Blossom media server (`tools/blossom_server.mjs`): a user's own preferred media server in tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from devstack.services import ROOT, Service, ServiceError, _spawn


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
    node = shutil.which("node")
    if node is None:
        raise ServiceError("node is not installed: the Blossom server needs Node.js")
    name = "blossom" if fail_uploads is None else "blossom-failing"
    argv = [node, str(ROOT / "tools" / "blossom_server.mjs"), "--port", str(port), "--host", host]
    argv += ["--dir", str(data_dir / name)]
    if public_url is not None:
        argv += ["--public-url", public_url]
    if max_upload_bytes is not None:
        argv += ["--max-upload-bytes", str(max_upload_bytes)]
    if fail_uploads is not None:
        argv += ["--fail-uploads", str(fail_uploads)]
    return _spawn(name, argv, data_dir / "logs", f"http://{host}:{port}", port, host, timeout)
