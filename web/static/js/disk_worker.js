// The one place that writes downloads to disk (disk_store.js): files of the origin's private file system (OPFS),
// each open with a synchronous access handle, which only a dedicated worker may hold. A write lands in the file at
// once (no swap file, unlike createWritable on the page, which copies the file for each session and shows nothing
// until it is closed). Messages: {id, op, name, ...}; answers {id, result} or {id, error}.
const handles = new Map() // name -> Promise of FileSystemSyncAccessHandle
let dirPromise = null

function dir () {
  if (!dirPromise) dirPromise = navigator.storage.getDirectory().then((root) => root.getDirectoryHandle('downloads', { create: true }))
  return dirPromise
}

function handle (name) {
  let found = handles.get(name)
  if (!found) {
    found = dir().then((d) => d.getFileHandle(name, { create: true })).then((f) => f.createSyncAccessHandle())
    found.catch(() => handles.delete(name))
    handles.set(name, found)
  }
  return found
}

async function close (name) {
  const found = handles.get(name)
  if (!found) return
  handles.delete(name)
  const h = await found
  h.flush()
  h.close()
}

const ops = {
  // the file at `size` bytes (sparse: nothing is written but what comes)
  async open ({ name, size }) {
    const h = await handle(name)
    if (h.getSize() !== size) h.truncate(size)
    return h.getSize()
  },
  // `length` bytes of `buffer` at `offset`; the buffer goes back to the page for its next write
  async write ({ name, offset, buffer, length }) {
    const h = await handle(name)
    const bytes = new Uint8Array(buffer, 0, length)
    let at = 0
    while (at < length) at += h.write(bytes.subarray(at), { at: offset + at })
    return buffer
  },
  async read ({ name, offset, length }) {
    const h = await handle(name)
    const bytes = new Uint8Array(length)
    const got = h.read(bytes, { at: offset })
    return got === length ? bytes : bytes.subarray(0, got)
  },
  // done writing: the page reads the file from now on (getFile), which an open access handle would forbid
  async close ({ name }) { await close(name) },
  async remove ({ name }) {
    await close(name)
    await (await dir()).removeEntry(name).catch((err) => { if (err.name !== 'NotFoundError') throw err })
  }
}

self.onmessage = async ({ data }) => {
  try {
    const result = await ops[data.op](data)
    if (result instanceof Uint8Array) self.postMessage({ id: data.id, result }, [result.buffer])
    else if (result instanceof ArrayBuffer) self.postMessage({ id: data.id, result }, [result])
    else self.postMessage({ id: data.id, result })
  } catch (err) {
    self.postMessage({ id: data.id, error: String((err && err.message) || err), name: err && err.name })
  }
}
