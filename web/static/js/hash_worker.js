// Module worker (started by hashing.js): the SHA-256 of a whole File and the SHA-1 of each of its torrent pieces,
// reading it in slices, so memory stays at two slices whatever the file's size and the page stays responsive.
// SHA-256 is incremental (hash-wasm, WebAssembly: WebCrypto has no streaming digest); a piece is at most 4 MiB, so
// its SHA-1 is one WebCrypto digest, which Chromium computes on its own thread while this one runs SHA-256.
//
// In: {file, pieceLength} (pieceLength null: no pieces). Out: {done} (bytes read so far) after each slice, then
// {sha256: hex, pieces: Uint8Array of 20 bytes per piece, or null} or {error}.
import { createSHA256 } from '../vendor/hash-wasm.js'

const SLICE = 8 * 1024 * 1024 // bytes read at a time: large enough that reads cost little per byte

// The slice length: whole pieces, so no piece spans two slices.
function sliceLength (pieceLength) {
  if (!pieceLength) return SLICE
  return Math.max(1, Math.floor(SLICE / pieceLength)) * pieceLength
}

async function hash (file, pieceLength) {
  const sha256 = await createSHA256()
  const step = sliceLength(pieceLength)
  const pieces = pieceLength ? new Uint8Array(20 * Math.ceil(file.size / pieceLength)) : null
  const read = (at) => at < file.size ? file.slice(at, Math.min(at + step, file.size)).arrayBuffer() : null
  let next = read(0)
  for (let at = 0; at < file.size; at += step) {
    const slice = new Uint8Array(await next)
    next = read(at + step) // the disk reads the next slice while this one is hashed
    const digests = []
    if (pieces) {
      for (let offset = 0; offset < slice.length; offset += pieceLength) {
        const index = (at + offset) / pieceLength
        digests.push(crypto.subtle.digest('SHA-1', slice.subarray(offset, offset + pieceLength))
          .then((digest) => pieces.set(new Uint8Array(digest), 20 * index)))
      }
    }
    sha256.update(slice)
    await Promise.all(digests)
    postMessage({ done: at + slice.length })
  }
  return { sha256: sha256.digest('hex'), pieces }
}

onmessage = async ({ data: { file, pieceLength } }) => {
  try {
    const result = await hash(file, pieceLength || null)
    postMessage(result, result.pieces ? [result.pieces.buffer] : [])
  } catch (err) {
    postMessage({ error: String((err && err.message) || err) })
  }
}
