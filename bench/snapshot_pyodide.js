// Script of bench/snapshot_pyodide.html (bench/boot_snapshot.py): how fast the app's Python could be up with
// Pyodide's experimental memory snapshot (`_makeSnapshot` / `_loadSnapshot`, private options of loadPyodide).
//   ?mode=plain    loadPyodide, then import the app's modules (what the app does today)
//   ?mode=make     the same with _makeSnapshot, then store pyodide.makeMemorySnapshot() in Cache Storage
//   ?mode=load     loadPyodide({_loadSnapshot}) from that copy: the app's modules are imported already
// The JS modules Python uses are reached from `js` (globalThis) so that the snapshot can name them by path;
// JS objects it cannot name are listed (window.unserializable) and stored as null: the measured start is then an
// upper bound, the app would not run from it as it is.
import { loadPyodide } from '../static/vendor/pyodide/pyodide.mjs'

const MODULES = {
  nostr_crypto: '../static/vendor/nostr-crypto.js',
  idb_keyval: '../static/vendor/idb-keyval.js',
  torrent_client: '../static/js/torrent_client.js',
  file_probe: '../static/js/file_probe.js',
  http_upload: '../static/js/http_upload.js',
  media_stream: '../static/js/media_stream.js',
  http_download: '../static/js/http_download.js'
}
const SHIM = `
import sys, types, js
from pyodide.ffi import create_proxy, jsnull, to_js as _to_js
def to_js(value, **options):
    options.setdefault("dict_converter", js.Object.fromEntries)
    return _to_js(value, **options)
ffi = types.ModuleType("pyscript.ffi")
ffi.__dict__.update(create_proxy=create_proxy, to_js=to_js, is_none=lambda v: v is None or v is jsnull)
pyscript = types.ModuleType("pyscript")
pyscript.__dict__.update(window=js, document=js.document, ffi=ffi, js_modules=js._bench_js_modules)
sys.modules.update({"pyscript": pyscript, "pyscript.ffi": ffi, "pyscript.js_modules": js._bench_js_modules})
sys.path.insert(0, "/home/pyodide/asknostr.zip")
`
const mode = new URLSearchParams(location.search).get('mode') || 'plain'
const status = document.getElementById('status')

async function bytes (url) {
  return new Uint8Array(await (await fetch(url)).arrayBuffer())
}

async function main () {
  const entries = Object.entries(MODULES)
  const modules = Promise.all(entries.map(([, path]) => import(path)))
  const zip = bytes('../static/vendor/asknostr.zip')
  // under _makeSnapshot, Pyodide wraps `js` in a Proxy that records paths, and the window's accessors (document)
  // and functions (setTimeout) refuse that Proxy as `this`: a stand-in for globalThis answers with the real ones
  const jsglobals = new Proxy({}, {
    get: (_, key) => {
      const value = globalThis[key]
      return typeof value === 'function' && /^[a-z]/.test(String(key)) ? value.bind(globalThis) : value
    },
    has: (_, key) => key in globalThis
  })
  let options = { jsglobals }
  if (mode === 'make') options = { jsglobals, _makeSnapshot: true }
  if (mode === 'load') {
    const cached = await (await caches.open('bench-snapshot')).match('snapshot')
    options = { jsglobals, _loadSnapshot: cached.arrayBuffer(), _snapshotDeserializer: () => null }
  }
  globalThis._bench_js_modules = Object.fromEntries((await modules).map((m, i) => [entries[i][0], m]))
  const py = await loadPyodide(options)
  py.FS.writeFile('/home/pyodide/asknostr.zip', await zip)
  performance.mark('python')
  if (mode !== 'load') {
    py.runPython(SHIM)
    py.runPython('import asknostr.browser.app')
  }
  performance.mark('imported')
  const imported = py.runPython("import sys; 'asknostr.browser.app' in sys.modules")
  if (mode === 'make') {
    window.unserializable = []
    // a freed slot of Pyodide's JS reference table reads as undefined, which makeMemorySnapshot refuses
    // (it expects none): the experiment fills them with null, which a restored table reads as a free slot too
    for (let i = 7; ; i++) {
      let value
      try { value = py._module.__hiwire_get(i) } catch { break }
      if (value === undefined) { py._module.__hiwire_set(i, null); window.unserializable.push('free slot') }
    }
    const snapshot = py.makeMemorySnapshot({
      serializer: (obj) => { window.unserializable.push(String(obj?.constructor?.name ?? typeof obj)); return null }
    })
    await (await caches.open('bench-snapshot')).put('snapshot', new Response(snapshot))
    window.snapshotBytes = snapshot.length
  }
  status.textContent = `${mode}: app imported ${imported}`
  performance.mark('ready')
  document.body.classList.add('ready')
}

main().catch((err) => { status.textContent = 'failed: ' + err; console.error(err) })
