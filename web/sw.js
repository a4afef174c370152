// Service worker: the app shell, the vendored runtime and the Python bundle, precached under a versioned cache
// (static/vendor/precache.js, written by tools/vendor.py; its version is a hash of every listed file).
// - Listed files are served cache-first: the app starts with no network at all.
// - A new version installs beside the old one and waits: a page never mixes files of two versions. The page
//   offers "Reload" (static/js/shell.js), which tells the waiting worker to take over; old caches go then.
// - /config.json is network-first (bounded wait) with the cached copy as fallback.
// - Everything else (relays, media servers, blobs, other routes of the server) is not touched.
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

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  url.hash = ''
  const page = url.origin + url.pathname  // the app's pages, whatever their query string
  if (url.href === configUrl) {
    event.respondWith(networkFirst(request))
  } else if (request.mode === 'navigate' && appPages.has(page)) {
    event.respondWith(cacheFirst(request, indexUrl))
  } else if (precached.has(url.href)) {
    event.respondWith(cacheFirst(request, url.href))
  }
})
