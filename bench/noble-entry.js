// bench/crypto_speed.py bundles this (esbuild) as the pure-JS baseline: nostr-tools' default build on @noble/curves.
export { finalizeEvent, verifyEvent, getPublicKey } from 'nostr-tools/pure'
export { hexToBytes } from '@noble/hashes/utils.js'
