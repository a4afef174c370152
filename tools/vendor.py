"""Copy the runtime files the PWA needs from node_modules into web/static/vendor/ and write the precache list.

Run by the set-up (`make setup`) after `npm ci`. Nothing here is fetched from the network: every file comes from
the npm packages pinned in package-lock.json. The precache list (`static/vendor/precache.js`, imported by sw.js)
names every file the app needs offline under a version that is the hash of their contents, so any change to any
file installs a new service worker and a fresh cache.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
WEB = ROOT / "web"
VENDOR = WEB / "static" / "vendor"

PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
SINGLE_FILES = {
    "webtorrent.min.js": NODE_MODULES / "webtorrent" / "dist" / "webtorrent.min.js",
    "idb-keyval.js": NODE_MODULES / "idb-keyval" / "dist" / "index.js",
}
PYTHON_BUNDLE = "asknostr.zip"
SHELL_FILES = ("./", "index.html", "manifest.json", "pyscript.json", "main.py")
SHELL_DIRS = ("static/css", "static/icons", "static/js")


def inputs_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def runtime_inputs() -> list[Path]:
    return [ROOT / "package-lock.json", Path(__file__).resolve(), *(ROOT / "tools" / "bundles").glob("*.js")]


def python_inputs() -> list[Path]:
    return [ROOT / "tools" / "bundle_python.mjs", *(WEB / "py").rglob("*.py")]


def copy_runtime(out: Path) -> None:
    (out / "pyodide").mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(NODE_MODULES / "pyodide" / name, out / "pyodide" / name)
    for name, source in SINGLE_FILES.items():
        shutil.copy2(source, out / name)
    esbuild = NODE_MODULES / ".bin" / "esbuild"
    for entry in sorted((ROOT / "tools" / "bundles").glob("*.js")):  # each an ES module of its own in vendor/
        subprocess.run(
            [
                str(esbuild),
                str(entry),
                "--bundle",
                "--format=esm",
                "--minify",
                "--log-level=warning",
                f"--outfile={out / entry.name}",
            ],
            check=True,
        )


def bundle_python(out: Path) -> None:
    """web/py/ as one zip of sources and Pyodide-compiled bytecode (see tools/bundle_python.mjs)."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed: the set-up needs Node.js to compile the app's Python")
    script = ROOT / "tools" / "bundle_python.mjs"
    subprocess.run([node, str(script), str(WEB / "py"), str(out)], check=True, cwd=ROOT)


def python_files() -> list[str]:
    """What pyscript.json's "files" table copies into Pyodide (besides main.py)."""
    config = json.loads((WEB / "pyscript.json").read_text())
    return [source.removeprefix("./") for source in config.get("files", {})]


def precache_list() -> list[str]:
    files = list(SHELL_FILES)
    for folder in (*SHELL_DIRS, "static/vendor"):
        files += sorted(
            p.relative_to(WEB).as_posix()
            for p in (WEB / folder).rglob("*")
            if p.is_file() and p.name != "precache.js" and not p.name.startswith(".")
        )
    files += [f for f in python_files() if f not in files]
    return files


def write_precache() -> str:
    digest = hashlib.sha256((WEB / "sw.js").read_bytes())
    files = precache_list()
    for name in files:
        path = WEB / ("index.html" if name == "./" else name)
        digest.update(name.encode() + b"\0" + path.read_bytes())
    version = digest.hexdigest()[:16]
    body = json.dumps({"version": version, "files": files}, indent=1)
    building = VENDOR / "precache.js.building"
    building.write_text(f"// Written by tools/vendor.py: what sw.js caches for offline use.\nself.PRECACHE = {body}\n")
    building.replace(VENDOR / "precache.js")
    return version


def main() -> int:
    """Rebuild only what changed, each part beside the live one and then moved into place, so a running server
    (`make run`) never serves a half-written folder."""
    if not NODE_MODULES.exists():
        print("node_modules is missing: run `npm ci --ignore-scripts` first", file=sys.stderr)
        return 1
    runtime_stamp, python_stamp = VENDOR / ".runtime-stamp", VENDOR / ".python-stamp"
    runtime_digest, python_digest = inputs_digest(runtime_inputs()), inputs_digest(python_inputs())
    if not runtime_stamp.exists() or runtime_stamp.read_text() != runtime_digest:
        building, old = VENDOR.with_name("vendor.building"), VENDOR.with_name("vendor.old")
        for leftover in (building, old):
            shutil.rmtree(leftover, ignore_errors=True)
        copy_runtime(building)
        bundle_python(building / PYTHON_BUNDLE)
        (building / ".runtime-stamp").write_text(runtime_digest)
        (building / ".python-stamp").write_text(python_digest)
        if VENDOR.exists():
            VENDOR.rename(old)
        building.rename(VENDOR)
        shutil.rmtree(old, ignore_errors=True)
    elif not python_stamp.exists() or python_stamp.read_text() != python_digest:
        bundle_python(VENDOR / (PYTHON_BUNDLE + ".building"))
        (VENDOR / (PYTHON_BUNDLE + ".building")).replace(VENDOR / PYTHON_BUNDLE)
        python_stamp.write_text(python_digest)
    version = write_precache()
    print(f"runtime in {VENDOR.relative_to(ROOT)} is up to date (precache version {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
