// Thin JS shell around WebTorrent (npm webtorrent, vendored), called from Python (asknostr.browser.torrents).
// One client per page, created on first use; the library is imported only then (it is not needed to boot).
// Pieces are kept by piece_store.js (read from the files the app has) and disk_store.js (written to disk while
// downloading; piece_store.js's DownloadPieces, in memory then Blobs, where the browser has no OPFS). No cache in
// front: a cache copies every block it serves.
import { DownloadPieces, FilePieces } from './piece_store.js'
import { DiskPieces, available as diskAvailable } from './disk_store.js'
// (for asknostr.browser.torrents: finished downloads kept on disk)
export { remove as removeStored, storedFile, storedName, sweep as sweepStored } from './disk_store.js'
import { hashes, knownPieces } from './hashing.js'
import { oneParsePerTrackerMessage, tune } from './webtorrent_tuning.js'

let clientPromise = null
// One object for the client's whole life: WebTorrent and its trackers keep this very object (shallow copies of
// their options) and each new peer connection reads iceServers from it, so a TURN credential renewed later
// reaches every connection made after.
const rtcConfig = { iceServers: [] }

// The ICE servers the client uses for its next connections; at start, and whenever TURN credentials are renewed.
export function configure (servers) {
  rtcConfig.iceServers = servers || []
}

function client () {
  if (!clientPromise) {
    clientPromise = import('../vendor/webtorrent.min.js').then(({ default: WebTorrent }) => {
      const wt = new WebTorrent({ tracker: { rtcConfig } })
      wt.on('add', (torrent) => {
        tune(torrent) // less work per block
        hearTrackers(torrent)
        tallyPeers(torrent)
      })
      return wt
    })
  }
  return clientPromise
}

// Offers are what keeping many torrents costs. With each announce (every 2 minutes) a torrent sends the tracker
// `numwant` WebRTC offers (at most 5), each an RTCPeerConnection held until answered or 50 s pass, and Chromium
// allows a page 500: a browser keeping 100 torrents had none left to answer a leecher with. A torrent that has
// every piece offers only what the plan of asknostr.seed_offers gives it (setOffers), none by default: leechers
// find it with their own offers, which the tracker forwards to it, and it answers (one connection each). A torrent
// still downloading offers as WebTorrent does. WebTorrent's `getAnnounceOpts`, given with each torrent added.
const seedOffers = new Map() // infoHash -> offers per announce

function announceOpts (torrent) {
  if (!torrent) return { numwant: 0 } // (not yet added: nothing to offer for)
  // Until its metadata is here WebTorrent would announce `left: 0`, which trackers count as a seeder (misleading
  // every other peer, and the Bridge's swarm health): it announces as the leecher it is.
  if (!torrent.metadata) return { left: 1 }
  // (not `done`: a seeded torrent announces before WebTorrent marks it done)
  const complete = torrent.length > 0 && torrent.downloaded >= torrent.length
  return complete ? { numwant: seedOffers.get(torrent.infoHash) || 0 } : {}
}

// WebTorrent's options for a torrent, with its announces as announceOpts says, and `made(torrent)` to call with
// the torrent WebTorrent makes of them (the callback exists before the torrent does).
function announcing (options) {
  let torrent = null
  return {
    options: { ...options, getAnnounceOpts: () => announceOpts(torrent) },
    made: (t) => { torrent = t; return t }
  }
}

// The offers each complete torrent makes with its announces, by infoHash (those not named: none). A torrent that
// gets offers it had not announces at once, so leechers waiting are reached now, not at the next announce.
export async function setOffers (plan) {
  const wt = await client()
  const before = new Map(seedOffers)
  seedOffers.clear()
  for (const [infoHash, offers] of Object.entries(plan)) seedOffers.set(infoHash, Math.max(0, Math.min(5, offers)))
  for (const [infoHash, offers] of seedOffers) {
    const torrent = findTorrent(wt, infoHash)
    const tracker = torrent && torrent.discovery && torrent.discovery.tracker
    if (offers > 0 && !before.get(infoHash) && tracker) tracker.update()
  }
}

// What each tracker said of a torrent's swarm in its last answer (by tracker URL): seeders (`complete`, for the
// viewer's race) and leechers (`incomplete`, for the plan of offers). Heard from the start of discovery, before an
// answer can come: WebTorrent starts it in the same task as 'ready' (a torrent with its metadata) or just after
// 'infoHash' (a magnet); looked for again every 20 ms otherwise.
function hearTrackers (torrent) {
  torrent.trackerSeeders = {}
  torrent.trackerLeechers = {}
  let heard = false
  const hook = () => {
    const tracker = torrent.discovery && torrent.discovery.tracker
    if (heard || torrent.destroyed) return
    if (!tracker) return setTimeout(hook, 20)
    heard = true
    for (const one of tracker._trackers || []) oneParsePerTrackerMessage(one) // (its prototype, once)
    tracker.on('update', (data) => {
      torrent.trackerSeeders[data.announce] = data.complete
      torrent.trackerLeechers[data.announce] = data.incomplete
    })
  }
  torrent.once('infoHash', () => queueMicrotask(hook))
  torrent.once('ready', hook)
}

// The start of a connected peer's id as text (8 bytes, e.g. WebTorrent's '-WW0208-'): it names its client, and the
// core tells the Bridge's from people's (asknostr.peer_kinds). '' before the handshake.
function peerPrefix (wire) {
  const id = wire.peerIdBuffer
  if (!id) return ''
  let text = ''
  for (let i = 0; i < 8 && i < id.length; i++) text += id[i] >= 32 && id[i] < 127 ? String.fromCharCode(id[i]) : '?'
  return text
}

// Bytes received per peer over the torrent's life (peers gone since included: seeds part once both have every
// piece), by its id (its prefix as text, then the rest in hex), for the caption's "who sent it": a sum per wire's
// 'download', no work per poll.
function tallyPeers (torrent) {
  torrent.receivedFrom = {}
  torrent.on('wire', (wire) => {
    const id = peerPrefix(wire) + (wire.peerId || '').slice(16) // the handshake came before 'wire'
    wire.on('download', (bytes) => { torrent.receivedFrom[id] = (torrent.receivedFrom[id] || 0) + bytes })
  })
}

// The connected peers' id prefixes and the bytes received by peer (see tallyPeers).
function peerKinds (torrent) {
  return { peerIds: torrent.wires.map(peerPrefix), receivedFrom: { ...(torrent.receivedFrom || {}) } }
}

function describe (torrent) {
  return {
    infoHash: torrent.infoHash,
    magnetURI: torrent.magnetURI,
    torrentFile: new Uint8Array(torrent.torrentFile),
    name: torrent.name,
    length: torrent.length,
    pieceLength: torrent.pieceLength
  }
}

function asError (err) {
  return err instanceof Error ? err : new Error(String(err))
}

// WebTorrent throws "duplicate torrent" for what is joined already: the torrent it means, or null.
function duplicateOf (wt, err) {
  const match = /duplicate torrent ([0-9a-f]{40})/.exec(String(err && err.message))
  return (match && findTorrent(wt, match[1])) || null
}

// A torrent being added by `start(resolve, reject)` (WebTorrent's seed or add, which returns the torrent); what is
// joined already ("duplicate torrent", thrown or emitted) is answered with the torrent there is.
function added (wt, start) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      const found = duplicateOf(wt, err)
      if (found) resolve(describe(found)); else reject(asError(err))
    }
    try {
      start(resolve, reject).once('error', onError)
    } catch (err) { onError(err) }
  })
}

// Seed a File/Blob under `name` in pieces of `pieceLength` bytes, announcing to `announce`; resolves once its
// infoHash and magnet are known. The pieces are read from the file itself (never copied), and hashed only if
// hashing.js has not hashed them already (the composer hashes each file before it seeds it).
export async function seed (file, name, announce, pieceLength) {
  const wt = await client()
  const preloadedStore = new FilePieces(pieceLength, { blob: file })
  // hashed in the hashing worker, a slice at a time, unless the composer just did: WebTorrent's own seed reads the
  // file whole into buffers its page lets pile up (a 300 MB file seeded after an HTTP download added +460 MB)
  const pieces = knownPieces(file, pieceLength) || (await hashes(file, pieceLength, null, false)).pieces
  const torrent = torrentOf(file.size, name, announce, pieceLength, pieces)
  const { options, made } = announcing({ announce, preloadedStore, storeCacheSlots: 0, skipVerify: true })
  return await added(wt, (resolve) => made(wt.add(torrent, options, (t) => resolve(describe(t)))))
}

// The .torrent (bencoded bytes) WebTorrent's seed would make of a single file (npm create-torrent's fields: the
// same info dictionary, so the same infoHash), from piece hashes computed already.
function torrentOf (length, name, announce, pieceLength, pieces) {
  const torrent = {
    info: { length, name, 'piece length': pieceLength, pieces, private: 0 },
    'creation date': Math.ceil(Date.now() / 1000),
    encoding: 'UTF-8'
  }
  if (announce.length) {
    torrent.announce = announce[0]
    torrent['announce-list'] = announce.map((url) => [url])
  }
  return bencode(torrent)
}

// BEP 3 bencoding of integers, text (as UTF-8), bytes, lists and dictionaries (keys sorted by their bytes).
function bencode (value) {
  const utf8 = new TextEncoder()
  const parts = []
  const put = (v) => {
    if (typeof v === 'number') {
      parts.push(utf8.encode(`i${Math.trunc(v)}e`))
    } else if (typeof v === 'string') {
      put(utf8.encode(v))
    } else if (v instanceof Uint8Array) {
      parts.push(utf8.encode(`${v.length}:`), v)
    } else if (Array.isArray(v)) {
      parts.push(utf8.encode('l'))
      for (const item of v) put(item)
      parts.push(utf8.encode('e'))
    } else {
      parts.push(utf8.encode('d'))
      const keys = Object.keys(v).map((k) => [utf8.encode(k), k])
      keys.sort(([a], [b]) => compareBytes(a, b))
      for (const [bytes, key] of keys) { put(bytes); put(v[key]) }
      parts.push(utf8.encode('e'))
    }
  }
  put(value)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) { out.set(part, at); at += part.length }
  return out
}

function compareBytes (a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

// Seed a kept file again with the torrent file it was seeded with (bytes): the same infoHash whatever the rules
// for names and piece lengths are today, and no hashing: the pieces were checked when the file was kept. A torrent
// of that infoHash joined ahead of play makes way; any other (seeded, or downloading for a viewer) is answered.
export async function reseed (torrentFile, file, announce, infoHash) {
  const wt = await client()
  const there = findTorrent(wt, infoHash)
  if (there && !there.joinedAhead) return describe(there) // seeded, or downloading for a viewer: it will be kept
  if (there) await remove(infoHash) // joined ahead of play without its file: the kept file takes its place
  const { options, made } = announcing({ announce, store: FilePieces, storeOpts: { blob: file }, storeCacheSlots: 0, skipVerify: true })
  return await added(wt, (resolve, reject) => made(wt.add(torrentFile, options, (t) => {
    if (t.length === file.size) return resolve(describe(t))
    t.destroy() // not that torrent's file (skipVerify would serve wrong pieces)
    reject(new Error(`the kept file has ${file.size} bytes, its torrent ${t.length}`))
  })))
}

// The .torrent file of a torrent this page has (bytes), or null.
export async function torrentFile (infoHash) {
  if (!clientPromise) return null
  const torrent = findTorrent(await client(), infoHash)
  return torrent && torrent.metadata ? new Uint8Array(torrent.torrentFile) : null
}

// What this page seeds or downloads (received: bytes that came from peers; downloaded counts local pieces too).
export async function list () {
  if (!clientPromise) return [] // nothing joined yet: no need to load WebTorrent to say so
  const wt = await client()
  return wt.torrents.map((t) => ({
    infoHash: t.infoHash, name: t.name, pieceLength: t.pieceLength, progress: t.progress, numPeers: t.numPeers,
    uploaded: t.uploaded, downloaded: t.downloaded, received: t.received, done: t.done,
    // leechers: the most any tracker counts; waiting: those not connected to this page (its wires to non-seeders)
    leechers: Math.max(0, ...Object.values(t.trackerLeechers || {}).map((n) => Number(n) || 0)),
    leechersConnected: t.wires.filter((wire) => !wire.isSeeder).length,
    ...peerKinds(t)
  }))
}

// A complete torrent's (single) file as a Blob made from its store: WebTorrent's own file.blob() copies the whole
// file into one array first (gigabytes, for a long video).
async function fileBlob (torrent) {
  const store = torrent.store && torrent.store.store // ImmediateChunkStore in front (no cache: storeCacheSlots 0)
  const type = torrent.files[0].type || ''
  if (store instanceof DiskPieces) return await store.toFile(type)
  if (store instanceof DownloadPieces) return store.toBlob(type)
  if (store instanceof FilePieces) return store.blob
  return await torrent.files[0].blob()
}

// Join a swarm and download its (single) file. Resolves with the file as a Blob once every piece is verified;
// rejects when the torrent is larger than `maxBytes` (checked on its metadata, before any piece) or on error.
export async function fetchFile (magnet, announce, maxBytes) {
  const wt = await client()
  const existing = wt.torrents.find((t) => magnet.toLowerCase().includes(t.infoHash))
  // a follower seeding a creator's file does not stream it: the rarest pieces first, so that followers fetching at
  // once hold different pieces and trade them (WebTorrent's default, sequential, has them all ask for the same ones)
  const torrent = existing || join(wt, magnet, announce, false, 'rarest')
  return await new Promise((resolve, reject) => {
    const fail = (err) => { reject(asError(err)) }
    const finish = async () => {
      try {
        const blob = await fileBlob(torrent)
        resolve({ ...describe(torrent), blob, type: blob.type })
      } catch (err) { fail(err) }
    }
    const checkSize = () => {
      if (torrent.length > maxBytes) {
        torrent.destroy()
        fail(new Error(`too large: ${torrent.length} bytes`))
      } else {
        wantAll(torrent)
      }
    }
    torrent.once('error', fail)
    torrent.once('close', () => fail(new Error('the torrent was removed')))
    if (torrent.metadata) checkSize(); else torrent.once('metadata', checkSize)
    if (torrent.done) finish(); else torrent.once('done', finish)
  })
}

// Add a torrent by magnet (announcing as announceOpts says). `deselect`: no piece is fetched until one is asked for
// (a read, or `fetchFile`).
function join (wt, magnet, announce, deselect = false, strategy = 'sequential') {
  const store = diskAvailable() ? DiskPieces : DownloadPieces
  const { options, made } = announcing({ announce, deselect, store, storeCacheSlots: 0, strategy })
  const torrent = made(wt.add(magnet, options))
  torrent.joinedAhead = deselect
  torrent.on('error', (err) => console.warn(`torrent ${torrent.infoHash}: ${(err && err.message) || err}`))
  return torrent
}

// Fetch every piece of a torrent joined ahead (`prepare`), now that it is wanted: at once, or on its metadata.
function wantAll (torrent) {
  if (!torrent.joinedAhead) return
  torrent.joinedAhead = false
  const select = () => {
    if (torrent.pieces.length) torrent.select(0, torrent.pieces.length - 1)
    takeOutHttpPieces(torrent)
  }
  if (torrent.metadata) select(); else torrent.once('metadata', select)
}

// Join a swarm ahead of its media being played (it came into view): tracker, peers and metadata are ready by then,
// and no piece is fetched until it is played. Answers whether it joined (false: joined already).
export async function prepare (magnet, infoHash, announce) {
  const wt = await client()
  if (findTorrent(wt, infoHash)) return false
  join(wt, magnet, announce, true)
  return true
}

// Leave a swarm joined ahead whose media was not played (another came into view); not one wanted since.
export async function unprepare (infoHash) {
  if (!clientPromise) return false
  const torrent = findTorrent(await client(), infoHash)
  if (!torrent || !torrent.joinedAhead) return false
  await remove(infoHash)
  return true
}

function findTorrent (wt, infoHash) {
  return wt.torrents.find((t) => t.infoHash === infoHash)
}

// Join a swarm to view its file (or look at the torrent already joined). Answers with `state()`, a snapshot for the
// viewer's race: peers (and their kinds), bytes verified, speed, whether done, and what each tracker said of its
// seeders.
export async function watch (magnet, infoHash, announce) {
  const wt = await client()
  const torrent = findTorrent(wt, infoHash) || join(wt, magnet, announce)
  wantAll(torrent)
  let error = null
  torrent.once('error', (err) => { error = String((err && err.message) || err) })
  return {
    state: () => ({
      peers: torrent.numPeers,
      downloaded: torrent.downloaded,
      received: torrent.received,
      uploaded: torrent.uploaded,
      downloadSpeed: torrent.downloadSpeed,
      uploadSpeed: torrent.uploadSpeed,
      progress: torrent.progress,
      length: torrent.metadata ? torrent.length : 0,
      name: torrent.name || '',
      done: torrent.done,
      trackers: (torrent.announce || []).length,
      seeders: { ...(torrent.trackerSeeders || {}) },
      error,
      closed: torrent.destroyed,
      ...peerKinds(torrent)
    })
  }
}

// Bytes start..end-1 of a torrent are HTTP's (http_download.js fetches them): the pieces they touch are taken out of
// its selection, so no peer is asked for them (WebTorrent asks only for selected pieces; a piece half HTTP's would
// come both ways). Kept, and taken out again whenever every piece is selected after (its metadata, wantAll).
// Those pieces still end up seeded: the whole file is, once HTTP made it whole (asknostr.browser.playback).
function leaveToHttp (torrent, start, end) {
  if (end <= start) return
  torrent.httpRanges = torrent.httpRanges || []
  torrent.httpRanges.push([start, end])
  deselectBytes(torrent, start, end) // (the earlier ranges are out already)
}

// Every range HTTP took, out again: after a select of every piece.
function takeOutHttpPieces (torrent) {
  for (const [start, end] of torrent.httpRanges || []) deselectBytes(torrent, start, end)
}

function deselectBytes (torrent, start, end) {
  if (!torrent.metadata || torrent.destroyed || !torrent.pieces.length) return // no pieces known yet
  const first = Math.floor(start / torrent.pieceLength)
  const last = Math.min(torrent.pieces.length - 1, Math.floor((end - 1) / torrent.pieceLength))
  if (last >= first) torrent.deselect(first, last)
}

// The torrent's (single) file as a stream source for media_stream.js; waits for the metadata.
export async function fileSource (infoHash, typeHint) {
  const wt = await client()
  const torrent = findTorrent(wt, infoHash)
  if (!torrent) throw new Error(`not joined: ${infoHash}`)
  if (!torrent.metadata) { // (after WebTorrent's own select of every piece, and wantAll's)
    torrent.once('metadata', () => takeOutHttpPieces(torrent))
    torrent.once('ready', () => takeOutHttpPieces(torrent))
  }
  const ready = torrent.metadata ? Promise.resolve() : new Promise((resolve) => torrent.once('metadata', resolve))
  const source = {
    ready: ready.then(() => { source.size = torrent.files[0].length; source.type = typeHint || torrent.files[0].type }),
    size: 0,
    type: typeHint || '',
    read: (start, end) => torrent.files[0][Symbol.asyncIterator]({ start, end }),
    leave: (start, end) => leaveToHttp(torrent, start, end), // bytes HTTP fetches: no peer is asked for them
    // its pieces once ready: how many, how long, whether one is verified here, and a call on each one verified
    // (answers how to stop it)
    pieces: {
      get count () { return torrent.pieces.length },
      get pieceLength () { return torrent.pieceLength },
      has: (index) => Boolean(torrent.bitfield && torrent.bitfield.get(index)),
      // whether a peer was asked for blocks of it (WebTorrent's reservations) and it is still P2P's to fetch
      busy: (index) => {
        const piece = torrent.pieces[index]
        if (!piece || !piece._reservations || (torrent.bitfield && torrent.bitfield.get(index))) return false
        const start = index * torrent.pieceLength
        const end = start + torrent.pieceLength
        return !(torrent.httpRanges || []).some(([from, to]) => from < end && start < to)
      },
      onVerified: (listener) => {
        torrent.on('verified', listener)
        return () => torrent.removeListener('verified', listener)
      }
    }
  }
  return source
}

// Stop seeding (the pruner let it go).
export async function remove (infoHash) {
  if (!clientPromise) return
  const wt = await client()
  const torrent = findTorrent(wt, infoHash)
  // destroy's callback does not always come (WebTorrent 3 with some stores): do not wait for it for long
  if (torrent) await Promise.race([new Promise((resolve) => torrent.destroy({ destroyStore: true }, resolve)),
    new Promise((resolve) => setTimeout(resolve, 1000))])
}
