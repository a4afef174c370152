// Service worker: the app shell, the vendored runtime and the Python files, precached under a versioned cache
// (static/vendor/precache.js, written by tools/vendor.py; its version is a hash of every listed file).
// Same-origin files on the list are served cache-first, so the app starts with no network at all; /config.json
// is network-first with the cached copy as fallback; everything else (relays, media servers, blobs) is untouched.
importScripts('./static/vendor/precache.js')

const PREFIX = 'asknostr-'
const CACHE = PREFIX + self.PRECACHE.version
const RUNTIME = PREFIX + 'runtime'
const scopeUrl = new URL(self.registration.scope)
const precached = new Set(self.PRECACHE.files.map((f) => new URL(f, scopeUrl).href))
const configUrl = new URL('config.json', scopeUrl).href
const indexUrl = new URL('./', scopeUrl).href

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE)
    await cache.addAll([...precached].map((url) => new Request(url, { cache: 'reload' })))
    await self.skipWaiting()
  })())
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
    const response = await fetch(request)
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
  if (url.href === configUrl) {
    event.respondWith(networkFirst(request))
  } else if (request.mode === 'navigate' && url.origin === scopeUrl.origin) {
    event.respondWith(cacheFirst(request, precached.has(url.href) ? url.href : indexUrl))
  } else if (precached.has(url.href)) {
    event.respondWith(cacheFirst(request, url.href))
  }
})
