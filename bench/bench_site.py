"""The site the browser benchmarks load: a copy of the PWA's web root with their own pages under /bench/
(served by a real Bridge, whose CSP allows no inline script: hence pages of .html + .js files)."""

from __future__ import annotations

import shutil
from pathlib import Path

from devstack.services import ROOT, WEB_ROOT


def bench_web_root(tmp: Path, pages: tuple[str, ...]) -> Path:
    """`tmp/web`: the web root, plus `bench/<page>` for each file name in `pages`; its bench/ folder."""
    web_root = tmp / "web"
    shutil.copytree(WEB_ROOT, web_root)
    bench_dir = web_root / "bench"
    bench_dir.mkdir()
    for page in pages:
        shutil.copy(ROOT / "bench" / page, bench_dir / page)
    return bench_dir
