// A standalone NIP-96 (HTTP File Storage Integration) media server for tests: it stands in for a user's own
// NIP-96 server (nostr.build-like), so it shares no code with the Bridge. Uploads are NIP-98 signed (kind 27235,
// checked with nostr-tools); multipart bodies are parsed by Node's own Web `Request.formData()`.
//
//   node tools/nip96_server.mjs --port 3000 --host 127.0.0.1 --dir DATA_DIR
//        [--public-url URL] [--max-upload-bytes N] [--transform]
//
// GET /.well-known/nostr/nip96.json; POST /api/v2/media (upload: field `file`, optional caption, alt,
// content_type, size, no_transform); GET/HEAD /media/<sha256>[.ext] and /api/v2/media/<sha256>[.ext] (single byte
// ranges); DELETE /api/v2/media/<sha256>[.ext] (owners only); GET /api/v2/media?page=&count= (the signer's files).
// Files are named by the sha256 of the ORIGINAL upload (`ox`). --transform stores every upload with one byte
// appended, as a server that recompresses or strips metadata would: `x` != `ox`, and the URL serves other bytes.
// One line per request on stdout: `METHOD /path STATUS`.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { verifyEvent } from 'nostr-tools/pure'
import { flag, option, OwnedEntries, Refusal, sendFile, serve } from './media_server_kit.mjs'

const port = Number(option('port', '3000'))
const host = option('host', '127.0.0.1')
const dir = path.resolve(option('dir', 'nip96-data'))
const publicUrl = option('public-url', `http://${host}:${port}`).replace(/\/+$/, '')
/** A --public-url with no path (a proxy in front of this server): NIP-98 `u` tags may name it too. */
const publicOrigin = new URL(publicUrl).pathname === '/' ? new URL(publicUrl).origin : null
const maxUploadBytes = Number(option('max-upload-bytes', String(100 * 1024 * 1024)))
const transform = flag('transform')
if (!(Number.isInteger(maxUploadBytes) && maxUploadBytes > 0)) {
  console.error(`--max-upload-bytes wants a positive integer, not ${option('max-upload-bytes')}`)
  process.exit(2)
}

const API_PATH = '/api/v2/media'
const DOWNLOAD_PATH = '/media'
const AUTH_WINDOW_S = 60
const FORM_OVERHEAD = 1024 * 1024 // multipart boundaries and the small fields, on top of the file itself
const CONTENT_TYPES = ['image/*', 'video/*', 'audio/*', 'application/octet-stream']
const EXTENSIONS = {
  'image/png': '.png', 'image/jpeg': '.jpg', 'image/gif': '.gif', 'image/webp': '.webp', 'image/avif': '.avif',
  'image/svg+xml': '.svg', 'video/mp4': '.mp4', 'video/webm': '.webm', 'video/quicktime': '.mov',
  'video/x-matroska': '.mkv', 'audio/mpeg': '.mp3', 'audio/ogg': '.ogg', 'audio/wav': '.wav', 'audio/mp4': '.m4a',
  'audio/webm': '.weba', 'audio/flac': '.flac',
}
const TYPES = Object.fromEntries(Object.entries(EXTENSIONS).map(([type, ext]) => [ext, type]))

const filesDir = path.join(dir, 'files')
const metaPath = path.join(dir, 'metadata.json')

const metadata = new OwnedEntries(metaPath) // per original sha256 (`ox`): stored hash, type, size, owners, time

function refuse(res, status, reason) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Reason': reason })
  res.end(JSON.stringify({ status: 'error', message: reason }))
}

function answer(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

/** The request's absolute URLs a NIP-98 `u` tag may name: as reached (Host header), and under --public-url. */
function requestUrls(req) {
  const urls = [`http://${req.headers.host ?? `${host}:${port}`}${req.url}`]
  if (publicOrigin) urls.push(`${publicOrigin}${req.url}`)
  return urls
}

/** The kind 27235 event of the Authorization header, checked against this request (NIP-98); throws a Refusal. */
function authorize(req) {
  const header = req.headers.authorization ?? ''
  if (!header.startsWith('Nostr ')) throw new Refusal(401, 'Missing Nostr (NIP-98) authorization')
  let event
  try {
    event = JSON.parse(Buffer.from(header.slice(6).trim(), 'base64').toString('utf8'))
  } catch {
    throw new Refusal(401, 'Authorization is not a base64 JSON event')
  }
  if (!event || typeof event !== 'object' || !Array.isArray(event.tags)) throw new Refusal(401, 'Malformed auth event')
  const tag = (name) => event.tags.find((t) => Array.isArray(t) && t[0] === name)?.[1]
  if (event.kind !== 27235) throw new Refusal(401, 'Auth event must be kind 27235')
  if (!verifyEvent(event)) throw new Refusal(401, 'Invalid auth event signature')
  const now = Math.floor(Date.now() / 1000)
  if (!(Math.abs(event.created_at - now) <= AUTH_WINDOW_S)) {
    throw new Refusal(401, `Auth event created_at is not within ${AUTH_WINDOW_S} s of now`)
  }
  if (!requestUrls(req).includes(tag('u'))) throw new Refusal(401, `Auth event u tag must be ${requestUrls(req)[0]}`)
  if (tag('method') !== req.method) throw new Refusal(401, `Auth event method tag must be ${req.method}`)
  return event
}

/** Drains the rest of a request body (so that the client reads the answer) and resolves when it has ended. */
const drain = (req) => new Promise((resolve) => req.resume().on('end', resolve).on('error', resolve))

/** The whole body, or null when it exceeds `limit` bytes (the rest is drained, not kept). */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
    })
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : null))
    req.on('error', reject)
  })
}

const tooLarge = `File too large (limit ${maxUploadBytes} bytes)`

/** The media type of an upload: the `content_type` field, the part's own type, or its file name's extension. */
function mediaType(declared, file) {
  const type = (declared || file.type || '').split(';')[0].trim().toLowerCase()
  if (type) return type
  return TYPES[path.extname(file.name ?? '').toLowerCase()] ?? 'application/octet-stream'
}

const supported = (type) => CONTENT_TYPES.some((t) => (t.endsWith('/*') ? type.startsWith(t.slice(0, -1)) : t === type))

function fileEvent(entry, caption, alt) {
  const tags = [
    ['url', `${publicUrl}${DOWNLOAD_PATH}/${entry.ox}${EXTENSIONS[entry.type] ?? ''}`],
    ['ox', entry.ox],
    ['x', entry.x],
    ['m', entry.type],
    ['size', String(entry.size)],
  ]
  if (alt) tags.push(['alt', alt])
  return { tags, content: caption }
}

async function upload(req, res) {
  let event
  try {
    event = authorize(req)
    if (Number(req.headers['content-length']) > maxUploadBytes + FORM_OVERHEAD) throw new Refusal(413, tooLarge)
  } catch (error) {
    await drain(req)
    throw error
  }
  const body = await readBody(req, maxUploadBytes + FORM_OVERHEAD)
  if (body === null) throw new Refusal(413, tooLarge)
  let form
  try {
    const headers = { 'Content-Type': req.headers['content-type'] ?? '' }
    form = await new Request('http://nip96.invalid/', { method: 'POST', headers, body, duplex: 'half' }).formData()
  } catch (error) {
    throw new Refusal(400, `The body is not valid multipart/form-data (${error.message})`)
  }
  const field = (name) => (typeof form.get(name) === 'string' ? form.get(name) : '')
  const file = form.get('file')
  if (file === null) throw new Refusal(400, 'No file field in the form')
  if (typeof file === 'string') throw new Refusal(400, 'The file field must be a file part (with a filename)')
  if (Number(field('size')) > maxUploadBytes || file.size > maxUploadBytes) throw new Refusal(413, tooLarge)
  const bytes = Buffer.from(await file.arrayBuffer())
  const ox = sha256(bytes)
  // NIP-98 signs the payload's sha256 as hex; NIP-96's text says base64: either is taken, no payload tag too.
  const payload = event.tags.find((t) => Array.isArray(t) && t[0] === 'payload')?.[1]
  const signed = String(payload ?? '').trim()
  if (payload !== undefined && signed.toLowerCase() !== ox && signed !== Buffer.from(ox, 'hex').toString('base64')) {
    throw new Refusal(403, `Auth event payload tag is not the file's sha256 ${ox}`)
  }
  const type = mediaType(field('content_type'), file)
  if (!supported(type)) throw new Refusal(400, `Unsupported content type ${type} (${CONTENT_TYPES.join(', ')})`)
  let entry = metadata.get(ox) // written after its file, removed before it
  const existed = entry !== undefined
  if (!existed) {
    const stored = transform ? Buffer.concat([bytes, Buffer.from([0x0a])]) : bytes
    const tmp = path.join(filesDir, `${ox}.tmp`)
    fs.writeFileSync(tmp, stored)
    fs.renameSync(tmp, path.join(filesDir, ox))
    entry = { ox, x: sha256(stored), type, size: stored.length, uploaded: Math.floor(Date.now() / 1000) }
  }
  entry = metadata.add(entry.ox, entry, event.pubkey)
  answer(res, existed ? 200 : 201, {
    status: 'success',
    message: 'Upload successful.',
    nip94_event: fileEvent(entry, field('caption'), field('alt')),
  })
}

function download(req, res, ox) {
  const entry = metadata.get(ox)
  const file = path.join(filesDir, ox)
  if (!entry || !fs.existsSync(file)) return refuse(res, 404, 'File not found')
  sendFile(req, res, file, fs.statSync(file).size, entry.type, refuse)
}

function remove(req, res, ox) {
  const event = authorize(req)
  const entry = metadata.get(ox)
  if (!entry) return refuse(res, 404, 'File not found')
  if (!entry.owners.includes(event.pubkey)) return refuse(res, 403, 'Only an uploader of the file may delete it')
  if (metadata.removeOwner(ox, event.pubkey)) fs.rmSync(path.join(filesDir, ox), { force: true })
  answer(res, 200, { status: 'success', message: 'File deleted.' })
}

function list(req, res, query) {
  const event = authorize(req)
  const count = Math.max(1, Math.min(100, Number(query.get('count')) || 10))
  const page = Math.max(0, Math.floor(Number(query.get('page')) || 0))
  const owned = metadata.ownedBy(event.pubkey).sort((a, b) => b.uploaded - a.uploaded)
  const files = owned.slice(page * count, (page + 1) * count).map((entry) => ({
    ...fileEvent(entry, ''),
    created_at: entry.uploaded,
  }))
  answer(res, 200, { count, total: owned.length, page, files })
}

function discovery(res) {
  answer(res, 200, {
    api_url: `${publicUrl}${API_PATH}`,
    download_url: `${publicUrl}${DOWNLOAD_PATH}`,
    supported_nips: [94, 98],
    content_types: CONTENT_TYPES,
    plans: { free: { name: 'Free', is_nip98_required: true, max_byte_size: maxUploadBytes } },
  })
}

async function route(req, res) {
  const url = new URL(req.url, 'http://nip96.invalid')
  const hashPath = /^(\/media|\/api\/v2\/media)\/([0-9a-f]{64})(\.[A-Za-z0-9]+)?$/.exec(url.pathname)
  const [, base, ox] = hashPath ?? []
  if (url.pathname === '/.well-known/nostr/nip96.json' && (req.method === 'GET' || req.method === 'HEAD')) {
    return discovery(res)
  }
  if (url.pathname === API_PATH && req.method === 'POST') return upload(req, res)
  if (url.pathname === API_PATH && req.method === 'GET') return list(req, res, url.searchParams)
  if (ox && (req.method === 'GET' || req.method === 'HEAD')) return download(req, res, ox)
  if (ox && base === API_PATH && req.method === 'DELETE') return remove(req, res, ox)
  refuse(res, 404, `No route for ${req.method} ${url.pathname}`)
}

fs.mkdirSync(filesDir, { recursive: true })
for (const name of fs.readdirSync(filesDir)) if (name.endsWith('.tmp')) fs.rmSync(path.join(filesDir, name))
const banner = transform ? ' (--transform)' : ''
serve({ name: 'nip96', host, port, methods: 'GET, HEAD, POST, DELETE', route, refuse, banner })
