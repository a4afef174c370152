"""Signing + verifying 200 Nostr events in the browser, four ways, side by side in one page.

    tools/netns.sh .venv/bin/python bench/crypto_speed.py [--events 200]

- wasm (JS):          the vendored nostr-crypto.js (nostr-tools' WASM build of libsecp256k1), called from JS
- wasm via Python:    the app's own path: Python builds and checks events (nip01, Feed.ingest) and crosses the FFI
                      to the same WASM for the Schnorr part
- noble (JS):         nostr-tools' default pure-JS build (@noble/curves), bundled for this run only
- pure Python:        a BIP-340 implementation in Python running under Pyodide (bench/bip340_reference.py)
Prints milliseconds per event and the ratio of each to "wasm via Python", the baseline of the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.bench_site import bench_web_root  # noqa: E402
from devstack.services import free_port, start_bridge  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402

JS_BENCH = """async (n) => {
  const sk = '0101010101010101010101010101010101010101010101010101010101010101'
  const out = {}
  const template = (i) => ({ kind: 1, created_at: 1700000000 + i, tags: [['t', 'bench']], content: 'event ' + i })
  let t0 = performance.now()
  const signed = []
  for (let i = 0; i < n; i++) signed.push(wasm.signEventJson(JSON.stringify(template(i)), sk))
  out.wasm_sign = performance.now() - t0
  t0 = performance.now()
  for (const e of signed) if (!wasm.verifyEventJson(e)) throw new Error('wasm verify failed')
  out.wasm_verify = performance.now() - t0
  const key = noble.hexToBytes(sk)
  t0 = performance.now()
  const nobleSigned = []
  for (let i = 0; i < n; i++) nobleSigned.push(noble.finalizeEvent(template(i), key))
  out.noble_sign = performance.now() - t0
  const fresh = nobleSigned.map((e) => JSON.parse(JSON.stringify(e)))  // no cached 'verified' mark
  t0 = performance.now()
  for (const e of fresh) if (!noble.verifyEvent(e)) throw new Error('noble verify failed')
  out.noble_verify = performance.now() - t0
  return out
}"""

PY_BENCH = """
import json, time, hashlib
import nostr_crypto
from asknostr import nip01
from asknostr.feed import Feed
import bip340_reference as bip340

N = {n}
sk = "01" * 32
out = {{}}
templates = [{{"kind": 1, "created_at": 1700000000 + i, "tags": [["t", "bench"]], "content": f"event {{i}}"}}
             for i in range(N)]
t0 = time.perf_counter()
signed = [json.loads(nostr_crypto.signEventJson(json.dumps(t), sk)) for t in templates]
out["py_wasm_sign"] = (time.perf_counter() - t0) * 1000
feed = Feed()
t0 = time.perf_counter()
accepted = [feed.ingest(e, lambda e: bool(nostr_crypto.verifyEventJson(json.dumps(e, ensure_ascii=False))))
            for e in signed]
out["py_wasm_verify"] = (time.perf_counter() - t0) * 1000
assert all(accepted) and feed.dropped == 0

secret = bytes.fromhex(sk)
pub = bip340.public_key(secret).hex()
t0 = time.perf_counter()
pure = []
for t in templates:
    event = nip01.build_unsigned(pub, t["kind"], t["content"], t["tags"], t["created_at"])
    event["sig"] = bip340.sign(bytes.fromhex(event["id"]), secret, bytes(32)).hex()
    pure.append(event)
out["pure_sign"] = (time.perf_counter() - t0) * 1000
t0 = time.perf_counter()
for event in pure:
    checked = nip01.check_event(event)
    assert bip340.verify(bytes.fromhex(checked["id"]), bytes.fromhex(pub), bytes.fromhex(checked["sig"]))
out["pure_verify"] = (time.perf_counter() - t0) * 1000
# the two implementations agree: WASM verifies what pure Python signed
assert all(nostr_crypto.verifyEventJson(json.dumps(e)) for e in pure[:20])
json.dumps(out)
"""

WRITE_FILES = """([files]) => { for (const [path, text] of Object.entries(files)) {
  const dir = path.split('/').slice(0, -1).join('/'); if (dir) py.FS.mkdirTree(dir); py.FS.writeFile(path, text) } }"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    n = args.events
    with tempfile.TemporaryDirectory() as tmp:
        bench_dir = bench_web_root(Path(tmp), ("crypto_speed.html", "crypto_speed.js"))
        web_root = bench_dir.parent
        esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
        subprocess.run(
            [str(esbuild), str(ROOT / "bench" / "noble-entry.js"), "--bundle", "--format=esm", "--minify",
             "--log-level=warning", f"--outfile={bench_dir / 'noble.js'}"],
            check=True,
        )  # fmt: skip
        bridge = start_bridge(Path(tmp) / "data", free_port(), relays=[], trackers=[], web_root=web_root)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                page = browser.new_page()
                page.goto(f"{bridge.url}/bench/crypto_speed.html")
                page.wait_for_selector("body.ready", timeout=120_000)
                files = {
                    f"/home/pyodide/{p.relative_to(ROOT / 'web' / 'py').as_posix()}": p.read_text()
                    for p in (ROOT / "web" / "py" / "asknostr").glob("*.py")
                }
                files["/home/pyodide/bip340_reference.py"] = (ROOT / "bench" / "bip340_reference.py").read_text()
                page.evaluate(WRITE_FILES, [files])
                page.evaluate(JS_BENCH, 20)  # warm-up: JIT, WASM tiers, Python imports; not counted
                page.evaluate(f"py.runPython({PY_BENCH.format(n=20)!r})")
                js: dict[str, Any] = page.evaluate(JS_BENCH, n)
                py: dict[str, Any] = page.evaluate(f"JSON.parse(py.runPython({PY_BENCH.format(n=n)!r}))")
                browser.close()
        finally:
            bridge.stop()
    rows = [
        ("wasm via Python (app)", py["py_wasm_sign"], py["py_wasm_verify"]),
        ("wasm (JS)", js["wasm_sign"], js["wasm_verify"]),
        ("noble (JS)", js["noble_sign"], js["noble_verify"]),
        ("pure Python", py["pure_sign"], py["pure_verify"]),
    ]
    base = rows[0][1] + rows[0][2]
    print(f"{n} events signed, then verified, in Chromium (ms per event; ratio of sign+verify to the app's path)")
    print(f"{'':24}{'sign':>10}{'verify':>10}{'total ' + str(n):>14}{'ratio':>9}")
    for name, sign, verify in rows:
        print(f"{name:<24}{sign / n:>10.3f}{verify / n:>10.3f}{sign + verify:>11.0f} ms{(sign + verify) / base:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
