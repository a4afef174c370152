// Module worker (started by hashing.js): the SHA-256 of a whole File and the SHA-1 of each of its torrent pieces,
// reading it in slices, so memory stays bounded whatever the file's size, and the page stays responsive.
// SHA-256 is incremental (hash-wasm, WebAssembly: WebCrypto has no streaming digest); a piece is at most 4 MiB, so
// its SHA-1 is one WebCrypto digest, which Chromium computes on its own thread while this one runs SHA-256.
//
// In: {file, pieceLength, withSha256} (pieceLength null: no pieces; withSha256 false: no SHA-256). Out: {done}
// (bytes read so far) after each slice, then
// {sha256: hex, pieces: Uint8Array of 20 bytes per piece, or null} or {error}.
import { createSHA256 } from '../vendor/hash-wasm.js'

const SLICE = 8 * 1024 * 1024 // bytes read at a time: large enough that reads cost little per byte

// The slice length: whole pieces, so no piece spans two slices.
function sliceLength (pieceLength) {
  if (!pieceLength) return SLICE
  return Math.max(1, Math.floor(SLICE / pieceLength)) * pieceLength
}

// The file in views of `step` bytes (the last one shorter), each valid until the next is asked for. Read as a byte
// stream into one buffer used over and over (no garbage: memory stays one buffer whatever the size); a browser
// whose Blob streams are not byte streams reads slices instead, one ahead.
async function * views (file, step) {
  let reader = null
  try { reader = file.stream().getReader({ mode: 'byob' }) } catch { reader = null }
  if (!reader) {
    const read = (at) => at < file.size ? file.slice(at, Math.min(at + step, file.size)).arrayBuffer() : null
    let next = read(0)
    for (let at = 0; at < file.size; at += step) {
      const slice = await next
      next = read(at + step) // the disk reads the next slice while this one is hashed
      yield new Uint8Array(slice)
    }
    return
  }
  let buffer = new ArrayBuffer(step)
  for (;;) {
    let filled = 0
    let done = false
    while (filled < step && !done) {
      const read = await reader.read(new Uint8Array(buffer, filled)) // the buffer is transferred, then given back
      done = read.done
      if (read.value) buffer = read.value.buffer
      if (!done) filled += read.value.byteLength
    }
    if (filled) yield new Uint8Array(buffer, 0, filled)
    if (done) return
  }
}

async function hash (file, pieceLength, withSha256) {
  const sha256 = withSha256 ? await createSHA256() : null
  const step = sliceLength(pieceLength)
  const pieces = pieceLength ? new Uint8Array(20 * Math.ceil(file.size / pieceLength)) : null
  let at = 0
  let digests = Promise.resolve()
  for await (const view of views(file, step)) {
    const sha1s = []
    if (pieces) {
      // WebCrypto copies its input when called, so the view may be read into again at once; waiting for the last
      // view's digests before the next keeps those copies to two views' worth.
      await digests
      for (let offset = 0; offset < view.length; offset += pieceLength) {
        const index = (at + offset) / pieceLength
        sha1s.push(crypto.subtle.digest('SHA-1', view.subarray(offset, offset + pieceLength))
          .then((digest) => pieces.set(new Uint8Array(digest), 20 * index)))
      }
      digests = Promise.all(sha1s)
    }
    if (sha256) sha256.update(view)
    at += view.length
    postMessage({ done: at })
  }
  await digests
  if (at !== file.size) throw new Error(`read ${at} bytes of ${file.size}`)
  return { sha256: sha256 ? sha256.digest('hex') : '', pieces }
}

onmessage = async ({ data: { file, pieceLength, withSha256 } }) => {
  try {
    const result = await hash(file, pieceLength || null, withSha256 !== false)
    postMessage(result, result.pieces ? [result.pieces.buffer] : [])
  } catch (err) {
    postMessage({ error: String((err && err.message) || err) })
  }
}
