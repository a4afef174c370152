// Hashes of a picked file, computed in a worker (hash_worker.js) that reads it in slices: never the whole file in
// memory, whatever its size. The torrent piece hashes of the last files hashed are remembered (by File, while it
// lives), so seeding that file in pieces of that length (torrent_client.seed) does not read and hash it again.

const known = new WeakMap() // File/Blob -> {pieceLength, pieces}

// {sha256: hex, pieces: Uint8Array (20 bytes per piece) or null} of `file`; `pieceLength` null: no pieces;
// `withSha256` false: the pieces alone (sha256 ''). `onProgress(bytes)` is called as the file is read, up to its size.
export function hashes (file, pieceLength, onProgress, withSha256 = true) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./hash_worker.js', import.meta.url), { type: 'module' })
    const fail = (message) => { worker.terminate(); reject(new Error(`could not read the file: ${message}`)) }
    worker.onmessage = ({ data }) => {
      if ('done' in data) {
        if (onProgress) onProgress(data.done)
        return
      }
      worker.terminate() // its WebAssembly memory goes with it
      if (data.error) return fail(data.error)
      if (data.pieces) known.set(file, { pieceLength, pieces: data.pieces })
      resolve({ sha256: data.sha256, pieces: data.pieces })
    }
    worker.onerror = (event) => { event.preventDefault(); fail(event.message || 'the hashing worker stopped') }
    worker.postMessage({ file, pieceLength: pieceLength || null, withSha256 }) // a File goes by reference, not copied
  })
}

// SHA-256 of a File/Blob, as 64 lowercase hex.
export async function sha256 (file, onProgress) {
  return (await hashes(file, null, onProgress)).sha256
}

// The piece hashes (20 bytes each, concatenated) of `file` in pieces of `pieceLength`, if hashed here; else null.
export function knownPieces (file, pieceLength) {
  const found = known.get(file)
  return found && found.pieceLength === pieceLength ? found.pieces : null
}
