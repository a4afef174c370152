// The page's side of the media streaming route (sw.js, stream/<key>): a media element asks the service worker for
// a range, the worker asks this page, this page reads it from the source Python chose for that key (WebTorrent's
// file, or the HTTP download: asknostr.browser.viewer) and hands it over a chunk at a time, as the element pulls.
//
// A source is {size, type, read(start, end)} where read gives an async iterator of Uint8Array for bytes
// start..end (inclusive); `ready` (optional) resolves once size and type are known.
const STREAM_MESSAGE = 'asknostr-stream'
const streams = new Map() // key -> {promise, resolve, reject, source}
const waits = new Map() // key -> {open: Set of waits under way, since, total (ms)}
let onDemand = () => {}

// A wait of the element for `key` begins (its request's head, or a chunk it pulled): the returned function ends it
// (once; a cancelled read's wait ends too, even if its source never answers).
function waitBegins (key) {
  let w = waits.get(key)
  if (!w) { w = { open: new Set(), since: 0, total: 0 }; waits.set(key, w) }
  const token = {}
  if (!w.open.size) w.since = performance.now()
  w.open.add(token)
  return () => {
    if (!w.open.delete(token) || w.open.size) return
    w.total += performance.now() - w.since
  }
}

// Seconds the media elements have waited for bytes of `key` since its first request, in all (for asknostr.media_race:
// no playback waits past 5 s). Time when several requests wait at once counts once.
export function waited (key) {
  const w = waits.get(key)
  if (!w) return 0
  return (w.total + (w.open.size ? performance.now() - w.since : 0)) / 1000
}

function entry (key) {
  let found = streams.get(key)
  if (!found) {
    found = {}
    found.promise = new Promise((resolve, reject) => { found.resolve = resolve; found.reject = reject })
    found.promise.catch(() => {}) // a failure is told to whoever asks, not left unhandled
    streams.set(key, found)
  }
  return found
}

// Whether the page is controlled by the service worker, so stream/<key> URLs are served.
export function available () {
  return Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)
}

// `handler(key)` is called the first time a media element asks for `key`: time to start fetching it.
export function listen (handler) {
  onDemand = handler
  if (!navigator.serviceWorker) return
  navigator.serviceWorker.addEventListener('message', onMessage)
  navigator.serviceWorker.startMessages()
}

// From now on, requests for `key` are answered from `source` (a later call replaces it: e.g. HTTP after P2P).
export function provide (key, source) {
  const found = entry(key)
  found.source = source
  found.resolve(source)
}

// Requests for `key` fail with `message` (nothing can serve it), until a source is provided.
export function fail (key, message) {
  const found = entry(key)
  if (!found.source) found.reject(new Error(message))
  streams.delete(key)
  waits.delete(key) // playing again starts a new race, and a new count of waits
}

async function sourceOf (key) {
  const isNew = !streams.has(key)
  const found = entry(key)
  if (isNew) onDemand(key)
  await found.promise
  const source = found.source
  if (source.ready) await source.ready
  return source
}

async function onMessage (event) {
  const data = event.data
  if (!data || data.type !== STREAM_MESSAGE) return
  const port = event.ports[0]
  let source
  const headDone = waitBegins(data.key)
  try {
    source = await sourceOf(data.key)
  } catch (err) {
    port.postMessage({ error: String((err && err.message) || err) })
    return
  } finally {
    headDone()
  }
  const size = source.size
  const start = data.start
  const end = data.end === null ? size - 1 : Math.min(data.end, size - 1)
  if (start > end && !(size === 0 && start === 0)) {
    port.postMessage({ error: 'range not satisfiable', size })
    return
  }
  port.postMessage({ size, type: source.type, start, end })
  let iterator = null
  let left = end - start + 1
  let pullDone = () => {}
  port.onmessage = async ({ data: ask }) => {
    if (ask === 'cancel') {
      pullDone()
      if (iterator && iterator.return) iterator.return()
      return
    }
    try {
      if (left <= 0) { port.postMessage({ done: true }); return }
      if (!iterator) iterator = source.read(start, end)[Symbol.asyncIterator]()
      pullDone = waitBegins(data.key)
      const { value, done } = await iterator.next().finally(pullDone)
      if (done) { port.postMessage({ done: true }); return }
      const chunk = value.length > left ? value.subarray(0, left) : value // some readers give more than asked
      left -= chunk.length
      const copy = new Uint8Array(chunk) // its own buffer, handed over without another copy
      port.postMessage({ chunk: copy }, [copy.buffer])
    } catch (err) {
      port.postMessage({ error: String((err && err.message) || err) })
    }
  }
}
