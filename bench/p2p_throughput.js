// Script of bench/p2p_throughput.html: one page's side of bench/p2p_throughput.py. Page A holds the file and
// sends it (raw RTCDataChannel, WebTorrent seed); page B receives it (HTTP, the channel, WebTorrent). Python calls
// `window.bench.*` with page.evaluate and carries the WebRTC offer and answer between the two pages.
import WebTorrent from '../static/vendor/webtorrent.min.js'
import { DownloadPieces, FilePieces } from '../static/js/piece_store.js'
import { tune } from '../static/js/webtorrent_tuning.js'

let file = null // page A: the file's bytes
let pc = null
let channel = null
let opened = null
let received = null // page B: a promise of the raw channel's timings
let client = null // this page's WebTorrent client, one for the page as in the app
let downloaded = null // page B: the last torrent downloaded

const now = () => performance.now()
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('')

// The local description once ICE gathering is complete: its host candidates are in the SDP (no trickle).
async function gathered () {
  while (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => pc.addEventListener('icegatheringstatechange', resolve, { once: true }))
  }
  return { type: pc.localDescription.type, sdp: pc.localDescription.sdp }
}

const warnings = [] // the client's, for an error message

// The page's client, made once as in the app.
function webTorrent () {
  if (!client) {
    client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false })
    client.on('warning', (err) => warnings.push(String(err?.message ?? err)))
  }
  return client
}

// Remove the page's other torrents once `keep` is added, so the tracker socket they share never closes: with a new
// client per measurement, or the old torrent removed first, a download sometimes found no peer in 60 s.
async function retire (keep) {
  await Promise.all(client.torrents.filter((t) => t !== keep).map((t) => Promise.race([
    new Promise((resolve) => t.destroy({ destroyStore: true }, resolve)),
    new Promise((resolve) => setTimeout(resolve, 1000))]))) // the callback does not always come (WebTorrent 3)
}

// A torrent's state, for an error message.
function describe (t) {
  const trackers = (t.discovery?.tracker?._trackers || []).map((tr) =>
    `${tr.destroyed ? 'destroyed' : tr.reconnecting ? 'reconnecting' : tr.socket?.connected ? 'connected' : 'closed'}` +
    ` (${Object.keys(tr.peers || {}).length} offers pending)`)
  return `${t.numPeers} peers, ${t.received} bytes received, tracker ${trackers.join(' ') || 'none'}, ` +
    `last warnings: ${JSON.stringify(warnings.slice(-3))}`
}

// The data-channel messages and bytes this page receives while counting (bridge_swarm.py's downloads): every
// channel made from then on is counted (WebTorrent's WebRTC library reads window.RTCPeerConnection per connection).
const counted = { messages: 0, small: 0, bytes: 0 } // small: under 1 KiB (a BitTorrent header alone)
let counting = false
function countMessages () {
  if (counting) return
  counting = true
  const count = (channel) => channel.addEventListener('message', ({ data }) => {
    const size = data.byteLength ?? data.size ?? data.length
    counted.messages++
    counted.small += size < 1024
    counted.bytes += size
  })
  const create = RTCPeerConnection.prototype.createDataChannel
  RTCPeerConnection.prototype.createDataChannel = function (...args) {
    const channel = create.apply(this, args)
    count(channel)
    return channel
  }
  window.RTCPeerConnection = class extends RTCPeerConnection {
    constructor (...args) {
      super(...args)
      this.addEventListener('datachannel', ({ channel }) => count(channel))
    }
  }
}

// Make this page's descriptions say it takes data-channel messages of `size` bytes at most (0: Chromium's own).
let maxMessageSize = 0
const setLocal = RTCPeerConnection.prototype.setLocalDescription
RTCPeerConnection.prototype.setLocalDescription = function (description, ...rest) {
  if (maxMessageSize && description?.sdp) {
    description = { type: description.type, sdp: description.sdp.replace(/a=max-message-size:\d+/, `a=max-message-size:${maxMessageSize}`) }
  }
  return setLocal.call(this, description, ...rest)
}
const advertised = (size) => { maxMessageSize = size || 0 }

window.bench = {
  async load (url) {
    file = new Uint8Array(await (await fetch(url, { cache: 'no-store' })).arrayBuffer())
    return hex(await crypto.subtle.digest('SHA-256', file))
  },

  // Plain HTTP download, streamed: from the request to the last byte.
  async http (url) {
    const t0 = now()
    const reader = (await fetch(url, { cache: 'no-store' })).body.getReader()
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.length
    }
    return { ms: now() - t0, size }
  },

  async offer () {
    if (pc) pc.close()
    pc = new RTCPeerConnection({ iceServers: [] })
    channel = pc.createDataChannel('bench', { ordered: true })
    channel.binaryType = 'arraybuffer'
    opened = new Promise((resolve) => { channel.onopen = resolve })
    await pc.setLocalDescription(await pc.createOffer())
    return await gathered()
  },

  async answer (offer, size) {
    if (pc) pc.close()
    pc = new RTCPeerConnection({ iceServers: [] })
    received = new Promise((resolve) => {
      pc.ondatachannel = ({ channel }) => {
        channel.binaryType = 'arraybuffer'
        let first = null
        let got = 0
        channel.onmessage = ({ data }) => {
          if (first === null) first = { at: now(), size: data.byteLength } // timing starts after it
          got += data.byteLength
          if (got >= size) resolve({ ms: now() - first.at, size: got - first.size })
        }
      }
    })
    await pc.setRemoteDescription(offer)
    await pc.setLocalDescription(await pc.createAnswer())
    return await gathered()
  },

  async accept (answer) {
    await pc.setRemoteDescription(answer)
    await opened
  },

  // Send the whole file in `chunk`-byte messages; over `high` bytes queued in the channel, wait until `low` are.
  async send ([chunk, high, low]) {
    channel.bufferedAmountLowThreshold = low
    for (let offset = 0; offset < file.length; offset += chunk) {
      if (channel.bufferedAmount > high) {
        await new Promise((resolve) => { channel.onbufferedamountlow = resolve })
      }
      channel.send(file.subarray(offset, offset + chunk))
    }
  },

  received: () => received,
  state: () => client?.torrents.map(describe).join('; '),

  // Page A: seed the file, in pieces of create-torrent's length unless one is given; store "app": as the app does
  // (pieces read from the File), else WebTorrent's default store (the file copied into it). `tuned`: with the
  // app's changes to WebTorrent's work per block (static/js/webtorrent_tuning.js).
  async seed ([tracker, name, pieceLength, store, tuned]) {
    const blob = new File([file], name)
    const options = { name, announce: [tracker], private: false }
    if (pieceLength) options.pieceLength = pieceLength
    if (store === 'app') Object.assign(options, { preloadedStore: new FilePieces(pieceLength, { blob }), storeCacheSlots: 0 })
    if (store === 'memory') options.store = DownloadPieces // every piece copied into memory
    return await new Promise((resolve, reject) => {
      const torrent = webTorrent().seed(blob, options, async (t) => {
        await retire(t)
        resolve({ magnet: t.magnetURI, pieceLength: t.pieceLength })
      })
      if (tuned) tune(torrent)
      torrent.once('error', reject)
    })
  },

  // Page B: download a magnet. `maxMessage`: the largest data-channel message this page says it takes (SDP
  // a=max-message-size, Chromium's own is 256 KiB), for its connections made from now on; a libtorrent peer
  // (libdatachannel) cuts what it sends to that size. `count`: count the data-channel messages received (the
  // figures come with the result). Knobs WebTorrent has no option for: `pipeline` multiplies the wire's speed estimate
  // that sizes its request pipeline (2 + ceil(0.5 s .. 1 s x speed / 16 KiB) blocks; speed over the last 1-5 s);
  // `eager` refills the pipeline at once instead of in an idle callback (up to 250 ms later). Store "app": the
  // app's DownloadPieces, else WebTorrent's default. `tuned`: as the app tunes WebTorrent (webtorrent_tuning.js).
  async download ([magnet, { pipeline, eager, store, tuned, maxMessage, count }]) {
    advertised(maxMessage)
    if (count) countMessages()
    Object.assign(counted, { messages: 0, small: 0, bytes: 0 })
    const t0 = now()
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no download in 60 s: ${describe(torrent)}`)), 60_000)
      const options = { app: { store: DownloadPieces, storeCacheSlots: 0 }, memory: { store: DownloadPieces } }[store]
      const torrent = webTorrent().add(magnet, options || {})
      if (tuned) tune(torrent)
      if (eager) torrent._update = () => torrent._updateWireWrapper()
      let first = null
      torrent.on('wire', (wire) => {
        const speed = wire.downloadSpeed
        if (pipeline !== 1) wire.downloadSpeed = (delta) => delta === undefined ? speed() * pipeline : speed(delta)
      })
      torrent.once('download', () => { first = now() })
      torrent.once('error', reject)
      torrent.once('done', () => {
        const done = now()
        clearTimeout(timer)
        downloaded = torrent
        resolve({ total: done - t0, transfer: done - first, peers: torrent.wires.map((w) => w.type), ...counted })
      })
    })
  },

  // Page B: the SHA-256 of the last download (checked apart from the download, whose CPU time is measured).
  async downloadedSha256 () {
    const sha256 = hex(await crypto.subtle.digest('SHA-256', await downloaded.files[0].arrayBuffer()))
    await retire(downloaded)
    return sha256
  }
}
document.body.classList.add('ready')
