// The app's changes to WebTorrent's hot path, applied to each torrent of the client (torrent_client.js): what it
// costs per block. On these 2-core machines a transfer between two browsers is bound by CPU (the pages, the
// network service and the WebRTC threads share the cores), so every millisecond saved per MB is speed.
// bench/p2p_throughput.py measures them ("the app" against WebTorrent with the app's stores alone).
//
// - One data-channel message per BitTorrent message. bittorrent-protocol writes a message that carries a payload
//   (a block of a piece, a bitfield, an extended message) as two chunks, its header then the payload; over WebRTC
//   each chunk is a data-channel message of its own, so every 16 KiB block cost two messages, and the receiving wire
//   joined them again with a copy. Header and payload now go as one buffer, cut from a shared slab (one allocation
//   per MiB, not one per block). The bytes on the wire are the same, so any peer reads them.
// - One pending update pass. After every block received WebTorrent asks for a pass over its wires (to send more
//   requests) in an idle callback: a thousand callbacks a second at 16 MB/s. One pending pass does the same work.
//
// Measured (bench/p2p_throughput.py --quick, 20 MB): see the README's figures; the viewer's P2P test checks that
// each block leaves in one message.

const SLAB = 1 << 20
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

// Make `wire` (a bittorrent-protocol Wire) send each message as one buffer; false when the wire does not look
// like the one this was written for (it is then left as it is, and still works).
export function oneMessageEach (wire) {
  const split = wire._message
  if (typeof split !== 'function' || split.length !== 3 || typeof wire._push !== 'function') return false
  wire._message = function (id, numbers, data) {
    if (!data || !data.length) return split.call(this, id, numbers, data)
    const head = 5 + 4 * numbers.length // length prefix, id, then the numbers: 4 bytes each, big-endian
    const message = cut(head + data.length)
    setUint32(message, 0, message.length - 4)
    message[4] = id
    for (let i = 0; i < numbers.length; i++) setUint32(message, 5 + 4 * i, numbers[i])
    message.set(data, head)
    this._push(message)
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

// Both, for a torrent just added to the client (before any wire).
export function tune (torrent) {
  oneUpdateAtATime(torrent)
  torrent.on('wire', oneMessageEach)
}
