// Entry of the vendored `static/vendor/hash-wasm.js` (bundled by tools/vendor.py with esbuild): incremental
// SHA-256 in WebAssembly (npm hash-wasm), for the hash of a picked file read in slices by static/js/hash_worker.js
// (WebCrypto has no streaming digest: it would need the whole file in memory).
export { createSHA256 } from 'hash-wasm'
