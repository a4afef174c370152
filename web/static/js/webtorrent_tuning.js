// The app's changes to WebTorrent's hot path, applied to each torrent of the client (torrent_client.js): what it
// costs per block. On these 2-core machines a transfer between two browsers is bound by CPU (the pages, the
// network service and the WebRTC threads share the cores), so every millisecond saved per MB is speed.
// bench/p2p_throughput.py measures them ("the app" against WebTorrent with the app's stores alone).
//
// - Fewer, whole data-channel messages. bittorrent-protocol writes a message that carries a payload (a block of a
//   piece, a bitfield, an extended message) as two chunks, its header then the payload, and every chunk becomes a
//   data-channel message of its own: every 16 KiB block cost two messages, the receiving wire joined them again
//   with a copy, and each request (17 bytes) was a message too. Now what a wire writes in one task goes out
//   together when the task ends, as data-channel messages of up to 64 KiB (the size every WebRTC peer accepts)
//   holding whole BitTorrent messages, so the receiver parses them where they lie. Each is cut from a shared slab
//   (one allocation per MiB, not one per block). The bytes on the wire are the same, so any peer reads them.
// - One pending update pass. After every block received WebTorrent asks for a pass over its wires (to send more
//   requests) in an idle callback: a thousand callbacks a second at 16 MB/s. One pending pass does the same work.
// - One connection per pair of browsers that announce at the same moment (oneConnectionPerPair, below).
// - One JSON parse per tracker message for all the torrents on its socket (oneParsePerTrackerMessage, below; applied
//   by torrent_client.js to each torrent's trackers, as it hears what they say).
//
// The viewer's P2P test checks that blocks leave in whole messages of up to 64 KiB.

const SLAB = 1 << 20
const MESSAGE_MOST = 64 * 1024 // bytes in one data-channel message (RFC 8841's default largest message)
let slab = new Uint8Array(0)
let slabUsed = 0

// `size` bytes of the slab, a new slab when this one is full. A view keeps its slab alive until it is sent.
function cut (size) {
  if (slab.length - slabUsed < size) {
    slab = new Uint8Array(Math.max(SLAB, size))
    slabUsed = 0
  }
  const bytes = slab.subarray(slabUsed, slabUsed + size)
  slabUsed += size
  return bytes
}

function setUint32 (bytes, offset, value) {
  bytes[offset] = value >>> 24
  bytes[offset + 1] = (value >>> 16) & 0xff
  bytes[offset + 2] = (value >>> 8) & 0xff
  bytes[offset + 3] = value & 0xff
}

// The length of a queued BitTorrent message: bytes as they are, or [id, numbers, payload] not yet framed.
const sizeOf = (message) => message instanceof Uint8Array
  ? message.length
  : 5 + 4 * message[1].length + (message[2] ? message[2].length : 0)

// Write `message` into `out` at `at`; the bytes written.
function write (out, at, message) {
  if (message instanceof Uint8Array) {
    out.set(message, at)
    return message.length
  }
  const [id, numbers, data] = message
  const size = sizeOf(message)
  const head = header(out, at, id, numbers, size)
  if (data) out.set(data, at + head)
  return size
}

// Write the header of a BitTorrent message of `size` bytes into `out` at `at`: length prefix, id, then the numbers
// (4 bytes each, big-endian). The header's length.
function header (out, at, id, numbers, size) {
  setUint32(out, at, size - 4)
  out[at + 4] = id
  for (let i = 0; i < numbers.length; i++) setUint32(out, at + 5 + 4 * i, numbers[i])
  return 5 + 4 * numbers.length
}

// Make `wire` (a bittorrent-protocol Wire) send what it writes in one task as whole BitTorrent messages in
// data-channel messages of up to 64 KiB; false when the wire does not look like the one this was written for (it is
// then left as it is, and still works).
export function batchedMessages (wire) {
  const push = wire._push
  if (typeof wire._message !== 'function' || wire._message.length !== 3 || typeof push !== 'function') return false
  let queued = []
  let size = 0
  let scheduled = false

  const flush = () => {
    scheduled = false
    if (!size) return
    const out = cut(size)
    let at = 0
    for (const message of queued) at += write(out, at, message)
    queued = []
    size = 0
    if (!wire._finished && !wire.destroyed) push.call(wire, out) // (the remote end gone: nothing to send to)
  }

  const queue = (message) => {
    const length = sizeOf(message)
    if (size && size + length > MESSAGE_MOST) flush()
    if (length > MESSAGE_MOST && !(message instanceof Uint8Array) && message[2]) {
      // larger than a data-channel message may be: header and payload apart, as the library sends them
      const [id, numbers, data] = message
      const head = new Uint8Array(length - data.length)
      header(head, 0, id, numbers, length)
      queued.push(head)
      size += head.length
      flush()
      queued.push(data)
      size += data.length
    } else {
      queued.push(message)
      size += length
    }
    if (size >= MESSAGE_MOST) flush()
    else if (!scheduled) {
      scheduled = true
      queueMicrotask(flush)
    }
  }

  wire._message = function (id, numbers, data) { queue([id, numbers, data]) }
  wire._push = function (data) {
    if (!this._finished) queue(data)
  }
  return true
}

const idle = (callback) => typeof requestIdleCallback === 'function'
  ? requestIdleCallback(callback, { timeout: 250 }) // WebTorrent's own delay
  : setTimeout(callback, 0)

// Make `torrent` (a WebTorrent Torrent) keep at most one update pass pending; false when it does not look like the
// one this was written for (it is then left as it is).
export function oneUpdateAtATime (torrent) {
  if (typeof torrent._update !== 'function' || typeof torrent._updateWireWrapper !== 'function') return false
  let pending = false
  torrent._update = function () {
    if (pending) return
    pending = true
    idle(() => {
      pending = false
      this._updateWireWrapper()
    })
  }
  return true
}

// Two browsers that announce at the same moment each get the other's offer from the tracker and answer it: two
// connections between the same pair. WebTorrent keeps whichever it heard of first and drops the other as a
// duplicate; when the two browsers keep different ones, both die, and they wait for the next announce (2 minutes):
// 8 downloads in 40 found no peer when started just as the seeder announced. Make `torrent` keep, while neither
// has connected, the connection offered by the smaller of the two peer ids, as the other browser does. False when
// the torrent does not look like the one this was written for (it is then left as it is).
export function oneConnectionPerPair (torrent) {
  const add = torrent._addPeer
  if (typeof add !== 'function' || typeof torrent.removePeer !== 'function') return false
  torrent._addPeer = function (peer, type, source) {
    const there = peer && typeof peer === 'object' && typeof peer.initiator === 'boolean' && !this.paused &&
      !this.destroyed && this._peers?.get(peer.id)
    if (there && !there.connected && typeof there.conn?.initiator === 'boolean') {
      const local = this.client.peerId
      const offerer = (conn) => conn.initiator ? local : peer.id
      const first = local < peer.id ? local : peer.id
      if (offerer(peer) === first && offerer(there.conn) !== first) this.removePeer(there) // the new one takes its place
    }
    return add.call(this, peer, type, source)
  }
  return true
}

// All of them, for a torrent just added to the client (before any peer).
export function tune (torrent) {
  oneUpdateAtATime(torrent)
  oneConnectionPerPair(torrent)
  torrent.on('wire', batchedMessages)
}

// Every torrent of a page announces over one WebSocket per tracker (bittorrent-tracker's socket pool), and each of
// them listens to all of it: each message the tracker sends was parsed as JSON once per torrent, only for all but
// one to drop it (another infoHash). Keeping 1,000 files, the answers to one round of announces were parsed a
// million times: 4 % of a core while idle. Make the WebSocket tracker client of `tracker` (one of a torrent's
// trackers) parse a message once for all; false when it does not look like the one this was written for.
let lastMessage = null
let lastParsed = null

export function oneParsePerTrackerMessage (tracker) {
  const proto = tracker && Object.getPrototypeOf(tracker)
  if (!proto || proto._onSocketData?.parsesOnce) return Boolean(proto)
  const onData = proto._onSocketData
  if (typeof onData !== 'function' || typeof proto._onAnnounceResponse !== 'function' ||
      typeof proto._onScrapeResponse !== 'function' || !('socket' in tracker)) return false
  const parsesOnce = function (data) {
    if (this.destroyed) return
    if (data !== lastMessage) {
      lastMessage = data
      try {
        lastParsed = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data))
      } catch { lastParsed = null }
    }
    if (!lastParsed || typeof lastParsed !== 'object') return onData.call(this, data) // its own warning
    this.expectingResponse = false
    if (lastParsed.action === 'announce') this._onAnnounceResponse(lastParsed)
    else if (lastParsed.action === 'scrape') this._onScrapeResponse(lastParsed)
    else onData.call(this, data) // its own error
  }
  parsesOnce.parsesOnce = true
  proto._onSocketData = parsesOnce
  return true
}
