// Starts Python: loads Pyodide and, at the same time, the app's Python bundle, main.py and the JS modules Python
// imports (named in pyscript.json, the format PyScript used), then runs main.py. The app once booted through
// PyScript; this does the few things of it the app used, in parallel instead of one after another, and without
// PyScript's own Python package, whose import alone took a quarter of a second (bench/boot_time.py).
// What Python sees of it: `pyscript.window`, `pyscript.document`, `pyscript.ffi` and `pyscript.js_modules.X`
// (set up by main.py with the modules given here), so the app's modules import as they did under PyScript.
import { loadPyodide } from '../vendor/pyodide/pyodide.mjs'

const base = new URL('../../', import.meta.url) // the web root: pyscript.json's paths are relative to it
const get = async (path) => { // a response of the web root, or an error naming the file
  const response = await fetch(new URL(path, base))
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`)
  return response
}

async function jsModules (config) {
  const entries = Object.entries(config.js_modules?.main ?? {})
  const loaded = await Promise.all(entries.map(([path]) => import(new URL(path, base).href)))
  return Object.fromEntries(entries.map(([, name], i) => [name, loaded[i]]))
}

async function files (config) {
  const entries = Object.entries(config.files ?? {})
  return Promise.all(entries.map(async ([source, target]) =>
    [target, new Uint8Array(await (await get(source)).arrayBuffer())]))
}

// boot.js is an async script, run before the page is parsed: the app's Python and the error line need all of it
const parsed = document.readyState !== 'loading' ? Promise.resolve()
  : new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }))

async function boot () {
  // JS null is None in Python, as the app's modules (written for PyScript) expect: `x is None` on a DOM lookup
  const pyodide = loadPyodide({ indexURL: new URL('../vendor/pyodide/', import.meta.url).href, convertNullToNone: true })
  const config = get('pyscript.json').then((r) => r.json())
  const modules = config.then(jsModules)
  const bundle = config.then(files)
  const main = get('main.py').then((r) => r.text())
  const py = await pyodide
  performance.mark('pyodide') // the runtime is up (bench/boot_time.py: the stages of a start)
  for (const [target, bytes] of await bundle) py.FS.writeFile(target, bytes)
  py.registerJsModule('_boot_js_modules', await modules)
  await parsed
  py.runPython(await main, { filename: 'main.py' })
}

performance.mark('boot-script')
boot().catch(async (err) => {
  console.error('failed to start:', err)
  await parsed
  const status = document.getElementById('status')
  if (status) {
    status.textContent = 'failed to start: ' + String(err?.message ?? err).trim().split('\n').pop() // a traceback's last line
    status.dataset.state = 'error'
  }
})
