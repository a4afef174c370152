// Thin JS shell around WebTorrent (npm webtorrent, vendored), called from Python (asknostr.browser.torrents).
// One client per page, created on first use; the library is imported only then (it is not needed to boot).
let clientPromise = null

export function configure (iceServers) {
  if (!clientPromise) {
    clientPromise = import('../vendor/webtorrent.min.js').then(({ default: WebTorrent }) =>
      new WebTorrent({ tracker: { rtcConfig: { iceServers: iceServers || [] } } }))
  }
  return clientPromise
}

function client () {
  return configure([])
}

function describe (torrent) {
  return {
    infoHash: torrent.infoHash,
    magnetURI: torrent.magnetURI,
    torrentFile: new Uint8Array(torrent.torrentFile),
    name: torrent.name,
    length: torrent.length
  }
}

// Seed a File/Blob under `name`, announcing to `announce`; resolves once its infoHash and magnet are known.
export async function seed (file, name, announce) {
  const wt = await client()
  return await new Promise((resolve, reject) => {
    const onError = (err) => reject(err instanceof Error ? err : new Error(String(err)))
    try {
      const torrent = wt.seed(file, { name, announce, private: false }, (t) => resolve(describe(t)))
      torrent.once('error', onError)
    } catch (err) {
      // seeding what is already seeded: WebTorrent throws "duplicate torrent"; answer with the existing one
      const match = /duplicate torrent ([0-9a-f]{40})/.exec(String(err && err.message))
      const found = match && wt.torrents.find((t) => t.infoHash === match[1])
      if (found) resolve(describe(found)); else onError(err)
    }
  })
}

// What this page seeds or downloads (received: bytes that came from peers; downloaded counts local pieces too).
export async function list () {
  const wt = await client()
  return wt.torrents.map((t) => ({
    infoHash: t.infoHash, name: t.name, progress: t.progress, numPeers: t.numPeers,
    uploaded: t.uploaded, downloaded: t.downloaded, received: t.received, done: t.done
  }))
}
