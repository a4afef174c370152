// WebSocket BitTorrent tracker for the local stack: `node tools/tracker.mjs --port 8765 --host 127.0.0.1`.
import { Server } from 'bittorrent-tracker'

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback
}
const port = Number(option('port', '8765'))
const host = option('host', '127.0.0.1')

const server = new Server({ udp: false, http: false, ws: true, stats: false })
server.on('error', (err) => console.error('tracker error:', err.message))
server.on('warning', (err) => console.error('tracker warning:', err.message))
server.listen(port, host, () => console.log(`tracker listening on ws://${host}:${port}`))

const stop = () => server.close(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
