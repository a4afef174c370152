// Service worker: the app shell, the vendored runtime and the Python bundle, precached under a versioned cache
// (static/vendor/precache.js, written by tools/vendor.py; its version is a hash of every listed file).
// - Listed files are served cache-first: the app starts with no network at all.
// - A new version installs beside the old one and waits: a page never mixes files of two versions. The page
//   offers "Reload" (static/js/shell.js), which tells the waiting worker to take over; old caches go then.
// - /config.json is network-first (bounded wait) with the cached copy as fallback.
// - stream/<key> is the media streaming route: the page that asked answers with the bytes (static/js/media_stream.js
//   serves them from WebTorrent or from an HTTP download), so a <video> plays, seeks and shows frames before the
//   whole file is here. Ranges are honoured (206), as media elements need.
//   Those bytes are users' uploads on the app's origin, so they are only ever media: a page or a script cannot
//   ask for them (STREAM_DESTINATIONS), only passive media types keep their type, and every answer carries the
//   blob origin's sandbox (no script runs even if a browser were to render it).
// - Everything else (relays, media servers, blobs, other routes of the server) is not touched: nothing a user
//   uploaded is cached or served as if it were one of the app's files.
importScripts('./static/vendor/precache.js')

const PREFIX = 'asknostr-'
const CACHE = PREFIX + self.PRECACHE.version
const RUNTIME = PREFIX + 'runtime'
const CONFIG_WAIT_MS = 3000
const scopeUrl = new URL(self.registration.scope)
const precached = new Set(self.PRECACHE.files.map((f) => new URL(f, scopeUrl).href))
const configUrl = new URL('config.json', scopeUrl).href
const indexUrl = new URL('./', scopeUrl).href
const appPages = new Set([indexUrl, new URL('index.html', scopeUrl).href])
const streamPrefix = new URL('stream/', scopeUrl).href
const STREAM_MESSAGE = 'asknostr-stream'
const STREAM_HEAD_WAIT_MS = 30000 // a request the page cannot start serving by then fails (504): a fetch event
// left pending would hold back every update of this worker (Chromium activates a new one only when none is in flight)

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) =>
    cache.addAll([...precached].map((url) => new Request(url, { cache: 'reload' })))))
})

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting()
})

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys()
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE && n !== RUNTIME).map((n) => caches.delete(n)))
    await self.clients.claim()
  })())
})

const STREAM_DESTINATIONS = new Set(['audio', 'video', 'image', ''])  // '': the app's own fetch()
const PASSIVE_TYPE = /^(image\/(?!svg)[\w.+-]+|audio\/[\w.+-]+|video\/[\w.+-]+)$/i
const passive = (type) => PASSIVE_TYPE.test(type) && !/xml/i.test(type)  // "image/x+xml" is XML
const STREAM_HEADERS = {
  'Content-Security-Policy': "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'",
  'X-Content-Type-Options': 'nosniff',
  'Content-Disposition': 'inline',
  'Cache-Control': 'no-store'
}

async function networkFirst (request) {
  const cache = await caches.open(RUNTIME)
  try {
    const response = await fetch(request, { signal: AbortSignal.timeout(CONFIG_WAIT_MS) })
    if (response.ok) await cache.put(request, response.clone())
    return response
  } catch (err) {
    const cached = await cache.match(request)
    if (cached) return cached
    throw err
  }
}

async function cacheFirst (request, key) {
  const cached = await caches.match(key, { cacheName: CACHE })
  return cached || fetch(request)
}

// "bytes=a-b", "bytes=a-" or none: {start, end} (end null: to the end); null when unreadable (the whole file).
function parseRange (header) {
  const match = /^bytes=(\d+)-(\d*)$/.exec((header || '').trim())
  return match ? { start: Number(match[1]), end: match[2] === '' ? null : Number(match[2]) } : null
}

// Ask the page for bytes: {size, type} first (or {error}), then a chunk per pull ({chunk} | {done} | {error}).
async function stream (event, key) {
  if (event.request.mode === 'navigate' || !STREAM_DESTINATIONS.has(event.request.destination)) {
    return new Response('media streams play in the app only', { status: 403, headers: STREAM_HEADERS })
  }
  const client = await self.clients.get(event.clientId)
  if (!client) return new Response('no page to stream from', { status: 503 })
  const range = parseRange(event.request.headers.get('range'))
  const channel = new MessageChannel()
  const port = channel.port1
  const answers = []
  let waiting = null
  port.onmessage = ({ data }) => { if (waiting) { const w = waiting; waiting = null; w(data) } else answers.push(data) }
  const next = () => answers.length ? Promise.resolve(answers.shift()) : new Promise((resolve) => { waiting = resolve })
  client.postMessage({ type: STREAM_MESSAGE, key, start: range ? range.start : 0, end: range ? range.end : null },
    [channel.port2])
  const timeout = new Promise((resolve) => setTimeout(() => resolve({ error: 'no source yet', status: 504 }),
    STREAM_HEAD_WAIT_MS))
  const head = await Promise.race([next(), timeout])
  if (head.status === 504) { port.postMessage('cancel'); port.close(); return new Response(head.error, { status: 504 }) }
  if (head.error) {
    const status = head.size !== undefined ? 416 : 502
    const headers = head.size !== undefined ? { 'Content-Range': `bytes */${head.size}` } : {}
    return new Response(head.error, { status, headers })
  }
  const body = new ReadableStream({
    async pull (controller) {
      port.postMessage('pull')
      const answer = await next()
      if (answer.chunk) controller.enqueue(answer.chunk)
      else if (answer.done) { controller.close(); port.close() } else { controller.error(new Error(answer.error)); port.close() }
    },
    cancel () { port.postMessage('cancel'); port.close() }
  })
  const headers = {
    ...STREAM_HEADERS,
    'Content-Type': passive(head.type || '') ? head.type : 'application/octet-stream',
    'Content-Length': String(head.end - head.start + 1),
    'Accept-Ranges': 'bytes'
  }
  if (!range) return new Response(body, { status: 200, headers })
  headers['Content-Range'] = `bytes ${head.start}-${head.end}/${head.size}`
  return new Response(body, { status: 206, headers })
}

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  url.hash = ''
  if (url.href.startsWith(streamPrefix)) {
    event.respondWith(stream(event, decodeURIComponent(url.pathname.slice(new URL(streamPrefix).pathname.length))))
    return
  }
  const page = url.origin + url.pathname  // the app's pages, whatever their query string
  if (url.href === configUrl) {
    event.respondWith(networkFirst(request))
  } else if (request.mode === 'navigate' && appPages.has(page)) {
    event.respondWith(cacheFirst(request, indexUrl))
  } else if (precached.has(url.href)) {
    event.respondWith(cacheFirst(request, url.href))
  }
})
