// A standalone Blossom media server for tests: it stands in for a user's own preferred media server, so it
// shares no code with the Bridge. Blobs are kept by `blossom-server-sdk`'s LocalStorage; that SDK's only
// metadata store needs the native better-sqlite3, which `npm ci --ignore-scripts` does not build, so
// upload times and owners live in a small JSON file here. Auth events are checked with nostr-tools.
//
//   node tools/blossom_server.mjs --port 3000 --host 127.0.0.1 --dir DATA_DIR
//        [--public-url URL] [--max-upload-bytes N] [--fail-uploads STATUS]
//
// BUD-01: GET/HEAD /<sha256>[.ext] (single byte ranges). BUD-02: PUT /upload, GET /list/<pubkey>,
// DELETE /<sha256> (owners only). --fail-uploads answers every upload with that status (a broken server).
// One line per request on stdout: `METHOD /path STATUS`.
import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { LocalStorage } from 'blossom-server-sdk/storage/local'
import { verifyEvent } from 'nostr-tools/pure'
import { option, OwnedEntries, Refusal, sendFile, serve } from './media_server_kit.mjs'

const port = Number(option('port', '3000'))
const host = option('host', '127.0.0.1')
const dir = path.resolve(option('dir', 'blossom-data'))
const publicUrl = option('public-url', `http://${host}:${port}`).replace(/\/+$/, '')
const maxUploadBytes = Number(option('max-upload-bytes', String(100 * 1024 * 1024)))
const failUploads = option('fail-uploads', null) === null ? null : Number(option('fail-uploads'))
if (failUploads !== null && !(Number.isInteger(failUploads) && failUploads >= 400 && failUploads <= 599)) {
  console.error(`--fail-uploads wants an HTTP error status (400-599), not ${option('fail-uploads')}`)
  process.exit(2)
}

const storage = new LocalStorage(path.join(dir, 'blobs'))
const tmpDir = path.join(dir, 'tmp')
const metaPath = path.join(dir, 'metadata.json')

const metadata = new OwnedEntries(metaPath) // upload time, type and owners per sha256

function refuse(res, status, reason) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Reason': reason })
  res.end(JSON.stringify({ message: reason }))
}

/** The kind 24242 event of the Authorization header, checked for `verb` (BUD-01, -02); throws a Refusal. */
function authorize(req, verb) {
  const header = req.headers.authorization ?? ''
  if (!header.startsWith('Nostr ')) throw new Refusal(401, 'Missing Nostr authorization')
  let event
  try {
    event = JSON.parse(Buffer.from(header.slice(6).trim(), 'base64').toString('utf8'))
  } catch {
    throw new Refusal(400, 'Authorization is not a base64 JSON event')
  }
  if (!event || typeof event !== 'object' || !Array.isArray(event.tags)) throw new Refusal(400, 'Malformed auth event')
  const now = Math.floor(Date.now() / 1000)
  const tag = (name) => event.tags.find((t) => Array.isArray(t) && t[0] === name)?.[1]
  if (event.kind !== 24242) throw new Refusal(401, 'Auth event must be kind 24242')
  if (!verifyEvent(event)) throw new Refusal(401, 'Invalid auth event signature')
  if (!(event.created_at <= now + 60)) throw new Refusal(401, 'Auth event created_at is in the future')
  if (!(Number(tag('expiration')) > now)) throw new Refusal(401, 'Auth event is expired or has no expiration')
  if (tag('t') !== verb) throw new Refusal(401, `Auth event t tag must be "${verb}"`)
  event.hashes = event.tags.filter((t) => Array.isArray(t) && t[0] === 'x').map((t) => t[1])
  return event
}

/** Reads the body into `file` while hashing it; past the limit the rest is drained, not stored. */
function receive(req, file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    const out = fs.createWriteStream(file)
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > maxUploadBytes) return
      hash.update(chunk)
      if (!out.write(chunk)) {
        req.pause()
        out.once('drain', () => req.resume())
      }
    })
    req.on('end', () => out.end(() => resolve({ sha256: hash.digest('hex'), size })))
    req.on('error', reject)
    out.on('error', reject)
  })
}

function descriptor(sha256) {
  const { size, type, uploaded } = metadata.get(sha256)
  return { url: `${publicUrl}/${storage.getBlobFilename(sha256)}`, sha256, size, type, uploaded }
}

/** The SDK's writeBlob resolves when its source ends: maybe before its file is opened or fully written. */
async function written(sha256, size) {
  for (let wait = 0; wait < 5000; wait += 5) {
    if ((await storage.getBlobSize(sha256).catch(() => -1)) >= size) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`blob ${sha256} was not written within 5 s`)
}

const tooLarge = `Blob too large (limit ${maxUploadBytes} bytes)`

async function upload(req, res) {
  const drain = () => new Promise((resolve) => req.resume().on('end', resolve).on('error', resolve))
  if (failUploads !== null) {
    await drain()
    return refuse(res, failUploads, `Uploads are failing on purpose (--fail-uploads ${failUploads})`)
  }
  let event
  try {
    event = authorize(req, 'upload')
    if (Number(req.headers['content-length']) > maxUploadBytes) throw new Refusal(413, tooLarge)
  } catch (error) {
    await drain()
    throw error
  }
  const tmp = path.join(tmpDir, randomUUID())
  try {
    const { sha256, size } = await receive(req, tmp)
    if (size > maxUploadBytes) throw new Refusal(413, tooLarge)
    if (!event.hashes.includes(sha256)) throw new Refusal(401, `Auth event has no x tag for ${sha256}`)
    const type = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim().toLowerCase()
    const existed = await storage.hasBlob(sha256)
    if (!existed) {
      await storage.writeBlob(sha256, fs.createReadStream(tmp), type)
      await written(sha256, size)
    }
    metadata.add(sha256, { sha256, size, type, uploaded: Math.floor(Date.now() / 1000) }, event.pubkey) // keeps an entry
    res.writeHead(existed ? 200 : 201, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(descriptor(sha256)))
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

async function getBlob(req, res, sha256) {
  if (!(await storage.hasBlob(sha256))) return refuse(res, 404, 'Blob not found')
  const size = await storage.getBlobSize(sha256)
  const type = metadata.get(sha256)?.type ?? (await storage.getBlobType(sha256)) ?? 'application/octet-stream'
  // read from the SDK's own file for the blob: the SDK reads whole blobs only, not ranges
  sendFile(req, res, path.join(storage.dir, storage.getBlobFilename(sha256)), size, type, refuse)
}

async function deleteBlob(req, res, sha256) {
  const event = authorize(req, 'delete')
  if (!event.hashes.includes(sha256)) throw new Refusal(401, `Auth event has no x tag for ${sha256}`)
  const blob = metadata.get(sha256)
  if (!blob || !(await storage.hasBlob(sha256))) return refuse(res, 404, 'Blob not found')
  if (!blob.owners.includes(event.pubkey)) return refuse(res, 403, 'Only an uploader of the blob may delete it')
  if (metadata.removeOwner(sha256, event.pubkey)) await storage.removeBlob(sha256)
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify({ message: 'Deleted' }))
}

function listBlobs(res, pubkey, query) {
  const since = Number(query.get('since') ?? 0)
  const until = Number(query.get('until') ?? Infinity)
  const blobs = metadata.ownedBy(pubkey).filter((blob) => blob.uploaded >= since && blob.uploaded <= until)
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(blobs.map((blob) => descriptor(blob.sha256))))
}

async function route(req, res) {
  const url = new URL(req.url, 'http://blossom.invalid')
  const blob = /^\/([0-9a-f]{64})(\.[A-Za-z0-9]+)?$/.exec(url.pathname)?.[1]
  const list = /^\/list\/([0-9a-f]{64})$/.exec(url.pathname)?.[1]
  if (url.pathname === '/upload' && req.method === 'PUT') return upload(req, res)
  if (url.pathname === '/upload' && req.method === 'HEAD') {
    return failUploads === null ? res.writeHead(200).end() : refuse(res, failUploads, 'Uploads are failing')
  }
  if (blob && (req.method === 'GET' || req.method === 'HEAD')) return getBlob(req, res, blob)
  if (blob && req.method === 'DELETE') return deleteBlob(req, res, blob)
  if (list && req.method === 'GET') return listBlobs(res, list, url.searchParams)
  refuse(res, 404, `No route for ${req.method} ${url.pathname}`)
}

fs.rmSync(tmpDir, { recursive: true, force: true })
fs.mkdirSync(tmpDir, { recursive: true })
await storage.setup()
serve({ name: 'blossom', host, port, methods: 'GET, HEAD, PUT, DELETE', route, refuse })
