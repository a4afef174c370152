// The viewer's source for a streamed media file (a stream source for media_stream.js): P2P's verified pieces where
// the torrent has them, and the byte ranges Python asks for over HTTP (Range requests; asknostr.http_ranges plans
// them once asknostr.media_race lets HTTP take over), readable while either comes in. Once whole, the file is one
// Blob, which is seeded over WebTorrent (no second download), and reads are served from it.
// HTTP's bytes are written to disk (disk_store.js), into the very file the torrent's pieces go to: nothing of the
// file stays in memory, and the finished file is the disk's. Without OPFS (or a size before the bytes) they are
// held in memory, up to `maxBytes`.
import { available as diskAvailable, diskFile } from './disk_store.js'
const STALL_MS = 30000 // no byte of a range for this long: the download has failed
const SLICE = 1 << 20 // bytes read from the whole file's Blob at a time
const READ_BYTES = 1 << 20 // the buffer an answer going to disk is read into
const WAKE_MS = 250 // a read waiting for a byte looks again this often (a verified piece or HTTP chunk wakes it)

// A body's chunks, one per call. Bytes going to disk are read into one buffer, used again for each chunk (a BYOB
// reader): a fresh ArrayBuffer per chunk is garbage the page's collector lets grow to more than half of a large file
// before it runs.
function bodyReader (body, reuse) {
  if (reuse) {
    try {
      const reader = body.getReader({ mode: 'byob' })
      let buffer = new ArrayBuffer(READ_BYTES)
      return async () => {
        const got = await reader.read(new Uint8Array(buffer))
        if (got.value) buffer = got.value.buffer
        return got
      }
    } catch (err) {} // not a byte stream here: a chunk at a time
  }
  const reader = body.getReader()
  return () => reader.read()
}

// `url`: the post's HTTP copy ('' for none); `typeHint` (from its imeta tag) stands in until a source says; `maxBytes`
// caps what HTTP fetches when it is held in memory; `p2p`: the torrent's file (torrent_client.js fileSource) or
// null; `key`: the torrent's infoHash, which names the file on disk ('': memory). The size comes from P2P's
// metadata or the server's first answer (the imeta tag's is a claim).
export function download (url, typeHint, maxBytes, p2p, key = '') {
  const parts = [] // HTTP bytes: {start, length, bytes (in memory) or null (on disk)}, sorted, never overlapping
  let diskName = key && diskAvailable() ? key : ''
  let disk = null // the DiskFile HTTP writes to, once the size is known
  let received = 0 // bytes that came over HTTP
  let failure = null
  let whole = null // the Blob once complete
  let pieces = null // P2P's pieces (torrent_client.fileSource), once its metadata is here
  let unhear = () => {} // stops hearing of verified pieces
  let wakers = []
  const waiting = new Map() // read -> the position it waits for
  let lastRead = 0
  const wake = () => { const w = wakers; wakers = []; w.forEach((f) => f()) }
  const changed = () => new Promise((resolve) => { wakers.push(resolve); setTimeout(resolve, WAKE_MS) })
  const source = {
    url,
    size: 0,
    type: typeHint || '',
    started: performance.now(),
    get received () { return received },
    get error () { return failure && String(failure.message || failure) },
    // where playback reads: the first byte a read waits for, else just after the last byte served
    get position () { return waiting.size ? Math.min(...waiting.values()) : lastRead },
    get waitingAt () { return waiting.size ? Math.min(...waiting.values()) : -1 }, // -1: no read waits
    ranged: true // false once the server sent the whole file for a range (it ignores ranges)
  }
  // the answers under way, by the byte each starts at: {at (how far it has come), end (where it will end: the
  // file's end when the server sends the whole file), stop (ends it, keeping what came of it)}
  const answers = new Map()
  const fail = (err) => { failure = failure || (err instanceof Error ? err : new Error(String(err))); wake() }

  let readyResolve
  source.ready = new Promise((resolve) => { readyResolve = resolve })
  const sized = (size) => {
    if (source.size && source.size !== size) {
      throw new Error(`the media server's copy has ${size} bytes, the torrent's ${source.size}`)
    }
    source.size = size
    readyResolve(source)
  }
  if (p2p) {
    p2p.ready.then(() => {
      if (source.size && p2p.size !== source.size) { // not the HTTP copy's file: its pieces are not mixed in
        console.warn(`the torrent's file has ${p2p.size} bytes, the media server's ${source.size}: HTTP alone plays`)
        if (diskName && !disk) diskName = `${key}-http` // not the torrent's file on disk either
        return
      }
      try { sized(p2p.size) } catch (err) { return fail(err) }
      if (!source.type) source.type = p2p.type
      pieces = p2p.pieces
      unhear = pieces.onVerified(wake)
    }, () => {})
  }
  if (!url && !p2p) fail(new Error('no source for this media'))

  const pieceLength = () => (pieces ? pieces.pieceLength : source.size || 1)
  const p2pHas = (position) => Boolean(pieces && pieces.has(Math.floor(position / pieces.pieceLength)))

  // the part holding byte `position`, or null (binary search: many parts, looked up for every chunk served)
  const partAt = (position) => {
    let low = 0
    let high = parts.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const part = parts[middle]
      if (position < part.start) high = middle - 1
      else if (position >= part.start + part.length) low = middle + 1
      else return part
    }
    return null
  }
  // the index of the first part starting after byte `position`
  const firstAfter = (position) => {
    let low = 0
    let high = parts.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (parts[middle].start > position) high = middle; else low = middle + 1
    }
    return low
  }
  // A part of no byte held yet; parts on disk join their neighbours (a 4 GB file is one part, not 65,000).
  const addPart = (start, length, bytes) => {
    const index = firstAfter(start)
    const before = parts[index - 1]
    const after = parts[index]
    if (!bytes && before && !before.bytes && before.start + before.length === start) {
      before.length += length
      if (after && !after.bytes && after.start === before.start + before.length) {
        before.length += after.length
        parts.splice(index, 1)
      }
    } else if (!bytes && after && !after.bytes && after.start === start + length) {
      after.start = start
      after.length += length
    } else {
      parts.splice(index, 0, { start, length, bytes })
    }
    received += length
    wake()
  }

  // The file on disk HTTP writes to, or null (memory): known once the size is.
  const onDisk = () => {
    if (!disk && diskName && source.size) disk = diskFile(diskName, source.size)
    return disk
  }

  // The gaps of [from, to) that no part holds, as [start, end) pairs.
  const gaps = (from, to) => {
    const found = []
    let at = from
    while (at < to) {
      const part = partAt(at)
      if (part) { at = part.start + part.length; continue }
      const next = parts[firstAfter(at)]
      const end = Math.min(to, next ? next.start : to)
      found.push([at, end])
      at = end
    }
    return found
  }

  // Keep the bytes from `start` that no part holds yet (an answer may bring bytes an earlier one did): written to
  // disk before they count as held, so a read finds them there.
  const addNew = async (start, bytes) => {
    const file = onDisk()
    for (const [from, to] of gaps(start, start + bytes.length)) {
      const piece = bytes.subarray(from - start, to - start)
      if (!file) { addPart(from, to - from, piece); continue }
      await file.write(from, piece)
      for (const [at, end] of gaps(from, to)) addPart(at, end - at, null) // (another answer may have kept some meanwhile)
    }
  }

  // The pieces P2P has verified and those it is fetching now (busy), as text ('1' each:
  // asknostr.http_ranges.pieces), and their length.
  source.pieces = () => {
    if (!pieces) return { bits: '', busy: '', pieceLength: pieceLength() }
    let bits = ''
    let busy = ''
    for (let index = 0; index < pieces.count; index++) {
      bits += pieces.has(index) ? '1' : '0'
      busy += pieces.busy(index) ? '1' : '0'
    }
    return { bits, busy, pieceLength: pieces.pieceLength }
  }

  // The byte ranges HTTP holds, [[start, end), ...] (end exclusive), joined where they touch.
  source.held = () => {
    const held = []
    for (const { start, length } of parts) {
      const last = held[held.length - 1]
      if (last && last[1] === start) last[1] += length; else held.push([start, start + length])
    }
    return held
  }

  // Ask the HTTP server for bytes start..end-1 (asknostr.http_ranges.next_fetch); resolves once they are here.
  source.fetch = async (start, end) => {
    if (failure) throw failure
    const controller = new AbortController()
    let stopped = false
    const answer = { at: start, end, stop: () => { stopped = true; controller.abort() } }
    answers.set(start, answer) // (before any await: Python sees it as soon as it asked)
    let stall = null
    const arm = () => {
      clearTimeout(stall)
      stall = setTimeout(() => { controller.abort(); fail(new Error('the download stalled')) }, STALL_MS)
    }
    arm()
    try {
      const response = await fetch(url, { signal: controller.signal, cache: 'no-store',
        headers: { Range: `bytes=${start}-${end - 1}` } })
      let at = start
      let until = end
      if (response.status === 206) {
        const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get('content-range') || '')
        if (range && Number(range[1]) !== start) {
          throw new Error(`the media server sent bytes from ${range[1]}, not ${start}`)
        }
        if (range) sized(Number(range[2]))
        else if (!source.size) throw new Error('the media server does not say how large the file is')
      } else if (response.status === 200) { // no ranges there: the whole file comes, and all of it is kept (asking
        // again for each range would fetch the file from its start every time)
        const length = Number(response.headers.get('content-length'))
        if (length > 0 && !response.headers.get('content-encoding')) sized(length)
        at = 0
        until = Infinity
        source.ranged = false
        answer.end = source.size || Number.MAX_SAFE_INTEGER
      } else {
        throw new Error(`the media server answered ${response.status}`)
      }
      const inMemory = !onDisk()
      if (inMemory && source.size > maxBytes) throw new Error(`too large to keep: ${source.size} bytes`) // P2P alone has no cap
      if (!source.type) source.type = (response.headers.get('content-type') || '').split(';')[0].trim()
      const next = bodyReader(response.body, !inMemory)
      while (at < until) {
        const { done, value } = await next()
        if (done) break
        arm()
        const from = until === Infinity ? at : Math.max(at, start) // all of a whole file is kept
        const to = Math.min(at + value.length, until)
        if (to > from) await addNew(from, value.subarray(from - at, to - at))
        at += value.length
        if (inMemory && at > maxBytes) throw new Error(`too large to keep: more than ${maxBytes} bytes`)
        answer.at = Math.min(Math.max(at, until === Infinity ? 0 : start), answer.end)
      }
      if (until === Infinity && !source.size) sized(at) // a whole file of no announced length ends here
      if (at < Math.min(end, source.size)) throw new Error(`got ${Math.max(0, at - start)} of ${end - start} bytes`)
    } catch (err) {
      if (stopped && !failure) return // stopped (playback seeked elsewhere): what came is kept
      if (!failure) fail(err)
      throw failure
    } finally {
      clearTimeout(stall)
      answers.delete(start)
    }
  }

  // The answers under way: [[start, at, end], ...] (bytes at..end-1 still to come).
  source.underWay = () => [...answers].map(([start, { at, end }]) => [start, at, end])

  // End the answer that started at `start` (asknostr.http_ranges.should_stop said so); its fetch resolves with what
  // came.
  source.stopFetch = (start) => { const answer = answers.get(start); if (answer) answer.stop() }

  // P2P leaves bytes start..end-1 to HTTP (their pieces are not asked of peers; torrent_client.js fileSource).
  source.leave = (start, end) => { if (p2p && p2p.leave) p2p.leave(start, end) }

  // Bytes start..end (inclusive), from whichever source has them, waiting for them to arrive.
  source.read = async function * (start, end) {
    const me = {}
    let position = start
    try {
      while (position <= end && (!source.size || position < source.size)) {
        if (failure) throw failure
        if (whole) {
          const last = Math.min(end + 1, position + SLICE)
          yield new Uint8Array(await whole.slice(position, last).arrayBuffer())
          position = lastRead = last
          continue
        }
        const part = partAt(position)
        if (part) {
          waiting.delete(me) // it waits no more: a stale wait would tell Python playback waits behind the answers
          const until = Math.min(part.start + part.length, end + 1)
          const piece = part.bytes ? part.bytes.subarray(position - part.start, until - part.start)
            : await disk.read(position, Math.min(SLICE, until - position))
          if (!piece.length) throw new Error(`nothing on disk at ${position}`)
          position += piece.length
          lastRead = position
          yield piece
          continue
        }
        if (p2pHas(position)) {
          const before = position
          const last = Math.min(end, source.size - 1, (Math.floor(position / pieceLength()) + 1) * pieceLength() - 1)
          waiting.delete(me)
          for await (const chunk of p2p.read(position, last)) {
            position += chunk.length
            lastRead = position
            yield chunk
          }
          if (position > before) continue // else the store could not read it: wait and look again
        }
        waiting.set(me, position)
        await changed()
      }
    } finally {
      waiting.delete(me)
    }
  }

  // The whole file as one Blob, once every byte is here (rejects if the download failed); reads use it from then on.
  source.blob = async () => {
    if (whole) return whole
    await source.ready
    if (onDisk()) { // every byte on disk (HTTP's or P2P's): the file is the disk's
      let position = 0
      while (position < source.size) {
        if (failure) throw failure
        const part = partAt(position)
        if (part) { position = part.start + part.length; continue }
        if (p2pHas(position)) { position = (Math.floor(position / pieceLength()) + 1) * pieceLength(); continue }
        await changed()
      }
      whole = await disk.finish(source.type)
      parts.length = 0
      unhear()
      return whole
    }
    const pieces = []
    for await (const chunk of source.read(0, source.size - 1)) pieces.push(chunk)
    whole = new Blob(pieces, { type: source.type })
    parts.length = 0 // in the Blob now
    unhear()
    return whole
  }

  source.abort = () => fail(new Error('aborted'))
  return source
}
