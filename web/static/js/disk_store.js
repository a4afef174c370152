// Downloads kept on disk, not in memory (issue 17): a file being downloaded, over P2P or HTTP or both, is written as
// it comes into one file of the origin's private file system (OPFS), downloads/<infoHash>.
//
// Design
// - One DiskFile per download, shared by both ways in: WebTorrent's chunk store for it (DiskPieces, the `store`
//   option of torrent_client.js's join) writes verified pieces at their offsets, and http_download.js writes the
//   byte ranges HTTP brings at theirs (a single-file torrent's offsets are the file's). Each remembers what it holds
//   (WebTorrent its bitfield, http_download its ranges); the file holds the bytes.
// - Writes and reads while downloading go through one dedicated worker (disk_worker.js) holding a synchronous
//   access handle per file: a write is in the file at once. (The page's createWritable writes to a swap copy made
//   for each session and shows nothing until closed.)
// - Once every byte is here, the handle is closed and the file is the OPFS File (getFile): a disk-backed Blob, which
//   the player reads, WebTorrent seeds (FilePieces) and the app keeps (asknostr.browser.torrents stores a reference,
//   {disk: name}, in IndexedDB instead of a copy, and gets the File back after a reload). Later writes to it are
//   dropped: they can only be the same verified bytes, and a change would make the File unreadable.
// - The app owns a finished file: a torrent destroyed later does not delete it (the quota pruner's forget does, and
//   torrents' start-up sweep deletes the files no kept record names). A file never finished is deleted with its
//   torrent; one left by a closed tab is swept at the next start.
// - The quota: navigator.storage.estimate counts OPFS with IndexedDB, so the pruner sees these files.
// Without OPFS (or workers), torrent_client.js falls back to piece_store.js's DownloadPieces (memory, then Blobs).

let worker = null
let nextId = 1
const pending = new Map() // id -> {resolve, reject}
const files = new Map() // name -> DiskFile (one per download, shared by P2P and HTTP)
const owned = new Set() // names whose finished File was handed out: the app's to keep or delete
const names = new WeakMap() // finished File (typed Blob) -> its name
const BUFFER_BYTES = 1 << 20 // a write's bytes go to the worker in buffers of this size, which come back
const SPARE_BUFFERS = 8 // buffers kept for the next writes (more are in use only while writes overlap)
const spare = []

// Whether downloads can go to disk here: OPFS and workers (its synchronous access handles exist in workers only, so
// the page cannot look for them; every browser with OPFS in pages has them in workers, Chromium since 102).
export function available () {
  return Boolean(globalThis.navigator && navigator.storage && navigator.storage.getDirectory && globalThis.Worker)
}

function call (op, args, transfer = []) {
  if (!worker) {
    worker = new Worker(new URL('./disk_worker.js', import.meta.url), { type: 'module' })
    worker.onmessage = ({ data }) => {
      const waiting = pending.get(data.id)
      if (!waiting) return
      pending.delete(data.id)
      if ('error' in data) waiting.reject(new Error(data.error)); else waiting.resolve(data.result)
    }
  }
  const id = nextId++
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject })
    worker.postMessage({ id, op, ...args }, transfer)
  })
}

async function directory () {
  return (await navigator.storage.getDirectory()).getDirectoryHandle('downloads', { create: true })
}

// One download's file, `size` bytes.
export class DiskFile {
  constructor (name, size) {
    this.name = name
    this.size = size
    this.file = null // the OPFS File once finished
    this.opened = null
  }

  _open () {
    if (!this.opened) this.opened = call('open', { name: this.name, size: this.size })
    return this.opened
  }

  // Bytes at `offset`, copied into buffers the worker hands back (the caller's buffer stays usable, and a download
  // allocates nothing per write: the worker, which does little else, would collect its garbage too seldom).
  async write (offset, bytes) {
    if (this.file) return // finished: the same verified bytes
    await this._open()
    for (let at = 0; at < bytes.length; at += BUFFER_BYTES) {
      const length = Math.min(BUFFER_BYTES, bytes.length - at)
      const buffer = spare.pop() || new ArrayBuffer(BUFFER_BYTES)
      new Uint8Array(buffer, 0, length).set(bytes.subarray(at, at + length))
      const back = await call('write', { name: this.name, offset: offset + at, buffer, length }, [buffer])
      if (spare.length < SPARE_BUFFERS) spare.push(back)
    }
  }

  async read (offset, length) {
    if (this.file) return new Uint8Array(await this.file.slice(offset, offset + length).arrayBuffer())
    await this._open()
    return await call('read', { name: this.name, offset, length })
  }

  // The whole file as a disk-backed Blob of `type`, now that every byte is written; the app owns it from now on.
  async finish (type = '') {
    if (!this.file) {
      if (!this.finishing) {
        this.finishing = (async () => {
          await this._open() // (a file of no write at all: an empty one)
          await call('close', { name: this.name })
          const file = await (await (await directory()).getFileHandle(this.name)).getFile()
          if (file.size !== this.size) throw new Error(`${this.name} has ${file.size} bytes on disk, not ${this.size}`)
          this.file = file.slice(0, file.size, type)
          names.set(this.file, this.name)
          owned.add(this.name)
        })()
      }
      await this.finishing
    }
    return this.file
  }
}

// The file of download `name` (shared by whoever downloads it); `size` must match.
export function diskFile (name, size) {
  let found = files.get(name)
  if (found && found.size !== size) throw new Error(`${name}: ${size} bytes, not ${found.size}`)
  if (!found) { found = new DiskFile(name, size); files.set(name, found) }
  return found
}

// Delete download `name` from disk (the pruner let it go, or it was never finished).
export async function remove (name) {
  files.delete(name)
  owned.delete(name)
  await call('remove', { name })
}

// The name a finished download's Blob is kept under on disk, or '' (not one).
export function storedName (blob) {
  return names.get(blob) || ''
}

// A finished download kept on disk (after a reload), as a Blob of `type`; null if it is not there.
export async function storedFile (name, type = '') {
  try {
    const file = await (await (await directory()).getFileHandle(name)).getFile()
    const blob = file.slice(0, file.size, type)
    names.set(blob, name)
    owned.add(name)
    return blob
  } catch (err) {
    if (err.name === 'NotFoundError') return null
    throw err
  }
}

// Delete every download on disk but those named in `keep` and those under way in this page; the names deleted.
export async function sweep (keep) {
  if (!available()) return []
  const kept = new Set(keep)
  const gone = []
  for await (const name of (await directory()).keys()) {
    if (kept.has(name) || files.has(name)) continue
    try {
      await remove(name)
      gone.push(name)
    } catch (err) {} // open in another tab of the app (a download under way there): its own
  }
  return gone
}

function failLater (cb, message, notFound = false) {
  const err = new Error(message)
  if (notFound) err.notFound = true
  queueMicrotask(() => cb(err))
}

// WebTorrent's chunk store (abstract-chunk-store) for a torrent being downloaded: pieces written to its DiskFile.
// WebTorrent passes `length` and `torrent` (its infoHash names the file) in `opts`.
export class DiskPieces {
  constructor (chunkLength, opts = {}) {
    this.chunkLength = Number(chunkLength)
    if (!this.chunkLength) throw new Error('DiskPieces needs a piece length')
    this.name = opts.diskName || (opts.torrent && opts.torrent.infoHash)
    if (!this.name) throw new Error('DiskPieces needs a name (the torrent)')
    this.length = Number(opts.length)
    this.disk = diskFile(this.name, this.length)
    this.written = new Set() // pieces put here (WebTorrent asks only for verified ones; this answers notFound)
    this.closed = false
  }

  _span (index, opts) {
    const base = index * this.chunkLength
    const pieceEnd = Math.min(this.length, base + this.chunkLength)
    const start = base + ((opts && opts.offset) || 0)
    return [start, opts && opts.length ? Math.min(pieceEnd, start + opts.length) : pieceEnd]
  }

  put (index, buf, cb = () => {}) {
    if (this.closed) return failLater(cb, 'store closed')
    this.disk.write(index * this.chunkLength, buf).then(() => { this.written.add(index); cb(null) }, cb)
  }

  get (index, opts, cb = () => {}) {
    if (typeof opts === 'function') return this.get(index, null, opts)
    if (this.closed) return failLater(cb, 'store closed')
    if (!(index >= 0 && index * this.chunkLength < this.length)) return failLater(cb, `no piece ${index}`, true)
    if (!this.disk.file && !this.written.has(index)) return failLater(cb, `no piece ${index} yet`, true)
    const [start, end] = this._span(index, opts)
    this.disk.read(start, end - start).then((bytes) => cb(null, bytes), cb)
  }

  // The whole file, once every piece is here (torrent_client.js's fileBlob).
  toFile (type = '') { return this.disk.finish(type) }

  close (cb = () => {}) { this.closed = true; queueMicrotask(() => cb(null)) }

  // A file never finished goes with its torrent; a finished one is the app's (see the note at the top).
  destroy (cb = () => {}) {
    this.closed = true
    if (owned.has(this.name)) return queueMicrotask(() => cb(null))
    files.delete(this.name)
    remove(this.name).then(() => cb(null), (err) => cb(err))
  }
}
