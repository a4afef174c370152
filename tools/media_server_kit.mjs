// What the two test media servers (tools/blossom_server.mjs, tools/nip96_server.mjs) share: command-line
// options, the JSON file of owners, refusals, single byte ranges, and the HTTP server around their routes
// (one log line per request, CORS, errors, clean stop). Neither shares code with the Bridge.
import fs from 'node:fs'
import http from 'node:http'
import { pipeline } from 'node:stream'

const args = process.argv.slice(2)

/** The value after `--name`, or `fallback`. */
export function option (name, fallback) {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback
}

/** Whether the bare flag `--name` is given. */
export function flag (name) {
  return args.includes(`--${name}`)
}

/** Entries by key (a sha256), each with the pubkeys that uploaded it; saved as JSON after each change. */
export class OwnedEntries {
  constructor (file) {
    this.file = file
    this.entries = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {}
  }

  save () {
    fs.writeFileSync(`${this.file}.tmp`, JSON.stringify(this.entries))
    fs.renameSync(`${this.file}.tmp`, this.file)
  }

  get (key) { return this.entries[key] }

  /** Records `entry` under `key` if new, and `owner` as one of its owners; the kept entry. */
  add (key, entry, owner) {
    const kept = (this.entries[key] ??= { ...entry, owners: [] })
    if (!kept.owners.includes(owner)) kept.owners.push(owner)
    this.save()
    return kept
  }

  /** Drops `owner`; true when nobody owns the entry any more (and it is gone). */
  removeOwner (key, owner) {
    const entry = this.entries[key]
    entry.owners = entry.owners.filter((pubkey) => pubkey !== owner)
    if (entry.owners.length === 0) delete this.entries[key]
    this.save()
    return !this.entries[key]
  }

  ownedBy (pubkey) { return Object.values(this.entries).filter((entry) => entry.owners.includes(pubkey)) }
}

/** A request refused with an HTTP status and a reason (sent in `X-Reason`). */
export class Refusal extends Error {
  constructor (status, reason) { super(reason); this.status = status }
}

/** [start, end] of a single `bytes=` range; null to send it all; 'unsatisfiable' for a 416. */
export function parseRange (header, size) {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '')
  if (!match || (match[1] === '' && match[2] === '')) return null // absent, multiple or malformed: ignore
  let start, end
  if (match[1] === '') [start, end] = [Math.max(0, size - Number(match[2])), size - 1] // suffix: the last N
  else [start, end] = [Number(match[1]), match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)]
  return start > end || start >= size ? 'unsatisfiable' : [start, end]
}

/** GET/HEAD of a stored file of `size` bytes, whole (200) or one range (206, 416); `refuse` answers errors. */
export function sendFile (req, res, file, size, type, refuse) {
  const headers = { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Cache-Control': 'public, max-age=31536000' }
  const range = parseRange(req.headers.range, size)
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${size}`)
    return refuse(res, 416, `Range not satisfiable for ${size} bytes`)
  }
  const [start, end] = range ?? [0, size - 1]
  if (range === null) res.writeHead(200, { ...headers, 'Content-Length': size })
  else res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}` })
  if (req.method === 'HEAD' || size === 0) return res.end()
  pipeline(fs.createReadStream(file, { start, end }), res, () => {}) // on an error res is destroyed: logged aborted
}

/** Serve `route(req, res)` on host:port: a log line per request, CORS on every answer, OPTIONS preflights,
 *  a Refusal thrown by a route sent with `refuse`, other errors as 500; SIGINT/SIGTERM stop it (exit 0). */
export function serve ({ name, host, port, methods, route, refuse, banner = '' }) {
  const server = http.createServer(async (req, res) => {
    const aborted = () => (res.writableFinished ? '' : ' aborted')
    res.on('close', () => console.log(`${req.method} ${req.url} ${res.statusCode}${aborted()}`))
    res.setHeader('Access-Control-Allow-Origin', '*')
    res.setHeader('Access-Control-Expose-Headers', '*')
    res.setHeader('Access-Control-Allow-Methods', methods)
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, *')
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Max-Age': '86400' })
        return res.end()
      }
      await route(req, res)
    } catch (error) {
      if (res.headersSent) return res.destroy()
      if (error instanceof Refusal) return refuse(res, error.status, error.message)
      console.error(`${name} error:`, error)
      refuse(res, 500, `Internal error: ${error.message}`)
    }
  })
  server.listen(port, host, () => console.log(`${name} listening on http://${host}:${port}${banner}`))
  const stop = () => {
    server.close(() => process.exit(0))
    server.closeAllConnections()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return server
}
