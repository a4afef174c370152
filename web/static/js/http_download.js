// One HTTP download of a post's media, readable while it comes in: the viewer's HTTP source (a stream source for
// media_stream.js) and, once complete, the Blob that is seeded over WebTorrent (no second download).
const STALL_MS = 30000 // no byte for this long: the download has failed

// Start downloading `url`. `sizeHint`/`typeHint` (from the post's imeta tag) stand in when the server does not
// say; `maxBytes` caps what is kept in memory (a longer body is an error).
export function download (url, sizeHint, typeHint, maxBytes) {
  const controller = new AbortController()
  const chunks = []
  const ends = [] // ends[i]: offset just after chunks[i]
  let received = 0
  let complete = false
  let failure = null
  let wakers = []
  const wake = () => { const w = wakers; wakers = []; w.forEach((f) => f()) }
  const changed = () => new Promise((resolve) => wakers.push(resolve))
  const source = {
    url,
    size: sizeHint > 0 ? sizeHint : 0,
    type: typeHint || '',
    status: 0,
    started: performance.now(),
    get received () { return received },
    get complete () { return complete },
    get error () { return failure && String(failure.message || failure) }
  }

  const fail = (err) => {
    failure = err instanceof Error ? err : new Error(String(err))
    controller.abort()
    wake()
  }

  let readyResolve, readyReject
  source.ready = new Promise((resolve, reject) => { readyResolve = resolve; readyReject = reject })
  source.ready.catch(() => {})

  const run = async () => {
    let stall = setTimeout(() => fail(new Error('the download stalled')), STALL_MS)
    try {
      const response = await fetch(url, { signal: controller.signal, cache: 'no-store' })
      source.status = response.status
      if (!response.ok) throw new Error(`the media server answered ${response.status}`)
      const length = Number(response.headers.get('content-length'))
      if (length > 0 && !response.headers.get('content-encoding')) source.size = length
      const type = (response.headers.get('content-type') || '').split(';')[0].trim()
      if (!source.type && type) source.type = type
      if (source.size > maxBytes) throw new Error(`too large: ${source.size} bytes`)
      const sizeKnown = source.size > 0
      if (sizeKnown) readyResolve(source)
      const reader = response.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        clearTimeout(stall)
        stall = setTimeout(() => fail(new Error('the download stalled')), STALL_MS)
        received += value.length
        if (received > maxBytes || (sizeKnown && received > source.size)) throw new Error('more bytes than announced')
        chunks.push(value)
        ends.push(received)
        wake()
      }
      if (sizeKnown && received !== source.size) throw new Error(`got ${received} of ${source.size} bytes`)
      source.size = received
      complete = true
      readyResolve(source)
      wake()
    } catch (err) {
      fail(failure || err)
      readyReject(failure)
    } finally {
      clearTimeout(stall)
    }
  }

  // Bytes start..end (inclusive), waiting for them to arrive.
  source.read = async function * (start, end) {
    let position = start
    while (position <= end) {
      if (failure) throw failure
      if (position >= received) {
        if (complete) return
        await changed()
        continue
      }
      let index = 0
      while (ends[index] <= position) index++ // few, large chunks: a walk is enough
      for (; index < chunks.length && position <= end; index++) {
        const chunkStart = ends[index] - chunks[index].length
        const piece = chunks[index].subarray(position - chunkStart, Math.min(chunks[index].length, end - chunkStart + 1))
        position += piece.length
        yield piece
      }
    }
  }

  // The whole file once downloaded (rejects if the download failed).
  source.blob = async () => {
    while (!complete) {
      if (failure) throw failure
      await changed()
    }
    return new Blob(chunks, { type: source.type })
  }

  source.abort = () => fail(new Error('aborted'))
  run()
  return source
}
