// Script of bench/nat_pairs.html: one browser's side of bench/nat_pairs.py, in a home behind a simulated NAT.
// WebTorrent as the app runs it (its piece stores and tuning), with the ICE servers Python gives; every
// RTCPeerConnection is kept, so that getStats tells which candidates carried the bytes and when ICE connected.
import { DownloadPieces, FilePieces } from '../static/js/piece_store.js'
import { tune } from '../static/js/webtorrent_tuning.js'

const now = () => performance.now()
const connections = [] // { pc, created, connected }
const Native = window.RTCPeerConnection
window.RTCPeerConnection = class extends Native {
  constructor (...args) {
    super(...args)
    const entry = { pc: this, created: now(), connected: null }
    this.addEventListener('connectionstatechange', () => {
      if (this.connectionState === 'connected' && entry.connected === null) entry.connected = now()
    })
    connections.push(entry)
  }
}

// imported once RTCPeerConnection is wrapped: the bundle takes the constructor when it loads
const { default: WebTorrent } = await import('../static/vendor/webtorrent.min.js')
let client = null
let iceServers = []

function webTorrent () {
  if (!client) client = new WebTorrent({ tracker: { rtcConfig: { iceServers } }, dht: false, lsd: false })
  return client
}

// The candidate pairs that carried bytes: the kinds of candidates, bytes, ICE time. Read while the download runs and
// kept: WebTorrent closes the connection between two seeds once the download is done, and a closed connection's
// getStats is empty.
const seen = new Map() // `${connection index}/${pair id}` -> the pair's last figures
async function snapshot () {
  await Promise.all(connections.map(async ({ pc, created, connected }, index) => {
    if (pc.connectionState === 'closed') return
    const stats = await pc.getStats()
    const byId = new Map()
    stats.forEach((s) => byId.set(s.id, s))
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && s.bytesReceived + s.bytesSent > 0) {
        seen.set(`${index}/${s.id}`, {
          local: byId.get(s.localCandidateId)?.candidateType,
          remote: byId.get(s.remoteCandidateId)?.candidateType,
          sent: s.bytesSent,
          received: s.bytesReceived,
          iceMs: connected === null ? null : connected - created
        })
      }
    })
  }))
}

async function pairs () {
  await snapshot()
  return [...seen.values()]
}

window.bench = {
  configure (servers) { iceServers = servers },

  // The seeder: `size` random bytes, seeded as the app does (pieces read from the File, tuned).
  async seed ([tracker, name, size, pieceLength]) {
    const bytes = new Uint8Array(size)
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)))
    const blob = new File([bytes], name)
    const options = { name, announce: [tracker], pieceLength, preloadedStore: new FilePieces(pieceLength, { blob }),
      storeCacheSlots: 0 }
    return await new Promise((resolve, reject) => {
      const torrent = webTorrent().seed(blob, options, (t) => resolve({ magnet: t.magnetURI }))
      tune(torrent)
      torrent.once('error', reject)
    })
  },

  // The leecher: download a magnet; times from add (ms) to the first byte and to the last, or a failure after
  // `timeoutMs` (ICE fails silently: checking, then disconnected, no error event).
  async download ([magnet, timeoutMs]) {
    const t0 = now()
    seen.clear()
    const torrent = webTorrent().add(magnet, { store: DownloadPieces, storeCacheSlots: 0 })
    tune(torrent)
    const reading = setInterval(snapshot, 200)
    const result = await new Promise((resolve) => {
      let first = null
      const timer = setTimeout(() => resolve({ ok: false, peers: torrent.numPeers }), timeoutMs)
      torrent.once('download', () => { first = now() })
      torrent.once('done', () => {
        clearTimeout(timer)
        const doneMs = now() - t0
        snapshot().then(() => resolve({ ok: true, firstMs: first - t0, doneMs }))
      })
    })
    clearInterval(reading)
    return { ...result, pairs: [...seen.values()] }
  },

  pairs
}
document.body.classList.add('ready')
