// Script of bench/prune_speed.html: time the quota pruner's decision over 10,000 kept torrents inside Pyodide,
// with the app's own bundled package (static/vendor/asknostr.zip).
import { loadPyodide } from '../static/vendor/pyodide/pyodide.mjs'
const py = await loadPyodide()
const zip = await (await fetch('../static/vendor/asknostr.zip')).arrayBuffer()
py.FS.writeFile('/asknostr.zip', new Uint8Array(zip))
const result = py.runPython(`
import sys, time, statistics
sys.path.insert(0, "/asknostr.zip")
from asknostr.quota_pruner import Kept, Ranks, plan_prune, resume_order
creators = [f"{n:064x}" for n in range(200)]
ranks = Ranks(frozenset(creators[:10]), frozenset(creators[10:30]), frozenset(creators[:150]))
kept = [Kept(f"{n:040x}", 1_000_000 + n, n, (n * 7919) % 10_000, creators[n % 200], n % 50 == 0) for n in range(10_000)]
quota = sum(k.size for k in kept)
prune, order = [], []
for _ in range(21):
    t = time.perf_counter(); plan_prune(kept, 50_000_000, quota, ranks); prune.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter(); resume_order(kept, ranks); order.append((time.perf_counter() - t) * 1000)
f"{statistics.median(prune):.2f} {statistics.median(order):.2f}"
`)
document.getElementById('status').textContent = result
document.body.classList.add('ready')
