// Where WebTorrent keeps a torrent's pieces: chunk stores (the abstract-chunk-store interface WebTorrent takes as its
// `store` / `preloadedStore` options) that make no second copy of a file. WebTorrent's default in Chromium writes
// every piece to its own file in the origin's private file system and reads it back for every block it sends: most
// of its cost between two browsers (bench/p2p_throughput.py), and a copy of what IndexedDB keeps already.
//
// - FilePieces: a file this browser has (the user's upload, a kept file from IndexedDB, a finished HTTP download) is
//   read where it is: a piece is a slice of its Blob. Nothing is written.
// - DownloadPieces: a torrent being downloaded. The newest pieces stay in memory (they are the ones asked for next,
//   by the player and by other peers); older ones move into Blobs, which the browser keeps on disk when they grow,
//   so a large video does not stay in the page's memory. Once complete, its pieces become one Blob (toBlob).

const HOT_BYTES = 32 * 1024 * 1024 // pieces kept in memory per torrent before the oldest move into Blobs
const READ_AHEAD = 8 // pieces of a file read at once when they are asked for in order

function failLater (cb, message, notFound = false) {
  const err = new Error(message)
  if (notFound) err.notFound = true
  queueMicrotask(() => cb(err))
}

function range (opts, pieceLength) {
  const offset = (opts && opts.offset) || 0
  return [offset, opts && opts.length ? offset + opts.length : pieceLength]
}

export class FilePieces {
  // `blob`: the whole file, as `opts.blob` (WebTorrent passes its `storeOpts` in `opts`).
  constructor (chunkLength, opts = {}) {
    this.chunkLength = Number(chunkLength)
    if (!this.chunkLength) throw new Error('FilePieces needs a piece length')
    if (!(opts.blob instanceof Blob)) throw new Error('FilePieces needs the file (opts.blob)')
    this.blob = opts.blob
    this.length = opts.blob.size
    this.reads = new Map() // piece index -> promise of its bytes, oldest first (READ_AHEAD pieces and a few more)
    this.last = -2 // the piece asked for last
    this.closed = false
  }

  put (_index, _buf, cb = () => {}) { // verified data of this very file: it is here already
    if (this.closed) return failLater(cb, 'store closed')
    queueMicrotask(() => cb(null))
  }

  get (index, opts, cb = () => {}) {
    if (typeof opts === 'function') return this.get(index, null, opts)
    if (this.closed) return failLater(cb, 'store closed')
    if (!(index >= 0 && index * this.chunkLength < this.length)) return failLater(cb, `no piece ${index}`, true)
    // read in order (one peer, a player): the next pieces come in the same read, before they are asked for
    const read = this._read(index, index === this.last + 1 ? READ_AHEAD : 1)
    this.last = index
    read.then((piece) => {
      const [start, end] = range(opts, piece.length)
      cb(null, piece.subarray(start, end))
    }, (err) => cb(err))
  }

  _read (index, count) { // pieces index .. index + count - 1 not read yet, in one read of the Blob
    if (this.reads.has(index)) return this.reads.get(index)
    let end = index + 1
    while (end < index + count && end * this.chunkLength < this.length && !this.reads.has(end)) end++
    const bytes = this.blob.slice(index * this.chunkLength, Math.min(this.length, end * this.chunkLength))
      .arrayBuffer().then((buffer) => new Uint8Array(buffer))
    bytes.catch(() => { // a failed read is not kept: the next get reads again
      for (let i = index; i < end; i++) this.reads.delete(i)
    })
    const pieces = []
    for (let i = index; i < end; i++) {
      const offset = (i - index) * this.chunkLength
      const piece = bytes.then((all) => all.subarray(offset, Math.min(all.length, offset + this.chunkLength)))
      piece.catch(() => {}) // read ahead and never asked for: no unhandled rejection
      pieces.push(piece)
      this.reads.set(i, piece)
    }
    for (const old of this.reads.keys()) {
      if (this.reads.size <= 2 * READ_AHEAD) break
      this.reads.delete(old)
    }
    return pieces[0]
  }

  close (cb = () => {}) { this.closed = true; this.reads.clear(); queueMicrotask(() => cb(null)) }
  destroy (cb = () => {}) { this.close(cb) } // the file is the app's (IndexedDB's), not the store's to delete
}

export class DownloadPieces {
  constructor (chunkLength, _opts = {}) {
    this.chunkLength = Number(chunkLength)
    if (!this.chunkLength) throw new Error('DownloadPieces needs a piece length')
    this.chunks = [] // index -> Uint8Array (in memory) or Blob (moved out)
    this.hot = new Map() // indexes in memory -> their byte length, oldest first
    this.hotBytes = 0
    this.file = null // the whole file once it is here (toBlob)
    this.closed = false
  }

  put (index, buf, cb = () => {}) {
    if (this.closed) return failLater(cb, 'store closed')
    if (this.file) return queueMicrotask(() => cb(null)) // complete: a piece checked again is the same bytes
    this._cool(index)
    this.chunks[index] = buf
    this.hot.set(index, buf.length)
    this.hotBytes += buf.length
    for (const [old] of this.hot) {
      if (this.hotBytes <= HOT_BYTES) break
      this.chunks[old] = new Blob([this.chunks[old]])
      this._cool(old)
    }
    queueMicrotask(() => cb(null))
  }

  _cool (index) {
    if (!this.hot.has(index)) return
    this.hotBytes -= this.hot.get(index)
    this.hot.delete(index)
  }

  // The whole file as one Blob, once every piece is here: made of the pieces (no copy of the file in the page's
  // memory), and from then on the store reads from it, so the pieces held in memory are let go.
  toBlob (type = '') {
    if (!this.file) {
      this.file = new Blob(this.chunks, { type })
      this.chunks = []
      this.hot.clear()
      this.hotBytes = 0
    }
    return this.file
  }

  get (index, opts, cb = () => {}) {
    if (typeof opts === 'function') return this.get(index, null, opts)
    if (this.closed) return failLater(cb, 'store closed')
    if (this.file) {
      const base = index * this.chunkLength
      if (index < 0 || base >= this.file.size) return failLater(cb, `no piece ${index}`, true)
      const [start, end] = range(opts, Math.min(this.chunkLength, this.file.size - base))
      return this.file.slice(base + start, base + end).arrayBuffer()
        .then((buffer) => cb(null, new Uint8Array(buffer)), cb)
    }
    const chunk = this.chunks[index]
    if (!chunk) return failLater(cb, `no piece ${index} yet`, true)
    if (chunk instanceof Blob) {
      const [start, end] = range(opts, chunk.size)
      return chunk.slice(start, end).arrayBuffer().then((buffer) => cb(null, new Uint8Array(buffer)), cb)
    }
    const [start, end] = range(opts, chunk.length)
    queueMicrotask(() => cb(null, chunk.subarray(start, end)))
  }

  close (cb = () => {}) { this.closed = true; queueMicrotask(() => cb(null)) }
  destroy (cb = () => {}) { this.chunks = []; this.file = null; this.hot.clear(); this.hotBytes = 0; this.close(cb) }
}
