// Thin JS shell: what the composer needs to know about a picked file before posting it.

// {dim, blurhash, poster} of an image or video: its size, its placeholder and a video's poster (poster.js).
export { preview } from './poster.js'

// sha256(file, onProgress): its SHA-256 as 64 lowercase hex; hashes(file, pieceLength, onProgress): that and its
// torrent piece hashes. Both read the file in slices in a worker (hashing.js), never all of it in memory.
export { hashes, sha256 } from './hashing.js'
