// Script of bench/crypto_speed.html (kept in a file: the Bridge's CSP allows no inline script).
import { loadPyodide } from '../static/vendor/pyodide/pyodide.mjs'
import * as wasm from '../static/vendor/nostr-crypto.js'
import * as noble from './noble.js'
await wasm.ready
window.wasm = wasm
window.noble = noble
window.py = await loadPyodide()
window.py.registerJsModule('nostr_crypto', wasm)
document.body.classList.add('ready')
