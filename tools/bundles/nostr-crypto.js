// Entry of the vendored `static/vendor/nostr-crypto.js` (bundled by tools/vendor.py with esbuild):
// BIP-340 signing and verification from nostr-tools' WASM build (libsecp256k1), JSON text in and out so the
// Python side crosses the FFI with plain strings.
import { setNostrWasm, generateSecretKey as genKey, getPublicKey as pubOf, finalizeEvent, verifyEvent } from 'nostr-tools/wasm'
import { initNostrWasm } from 'nostr-wasm/gzipped'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

export const ready = initNostrWasm().then((nw) => { setNostrWasm(nw); return true })

/** A new random secret key, hex. */
export function generateSecretKey () { return bytesToHex(genKey()) }

/** The x-only public key (hex) of a hex secret key. */
export function getPublicKey (secretHex) { return pubOf(hexToBytes(secretHex)) }

/** Sign `{kind, created_at, tags, content}` (JSON text) with a hex secret key; returns the event as JSON text. */
export function signEventJson (templateJson, secretHex) {
  const t = JSON.parse(templateJson)
  return JSON.stringify(finalizeEvent({ kind: t.kind, created_at: t.created_at, tags: t.tags, content: t.content }, hexToBytes(secretHex)))
}

/** True when the event (JSON text) has a correct id and a valid signature by its pubkey. */
export function verifyEventJson (eventJson) {
  try { return verifyEvent(JSON.parse(eventJson)) } catch { return false }
}
