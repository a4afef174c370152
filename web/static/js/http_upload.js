// Thin JS shell: an HTTP upload with progress (fetch cannot report upload progress), for the composer.
// Resolves {status, body, reason, headers} (the exposed response headers' text) for every HTTP answer (errors
// included); rejects on a network failure, or when nothing moved for `stallMs` (a dead server must not hold the
// post: the next server is tried).
const ANSWER_MS = 120000

export function send (method, url, body, headers, stallMs, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    let timer = null
    const arm = (ms = stallMs) => {
      clearTimeout(timer)
      timer = setTimeout(() => { xhr.abort(); reject(new Error(`no progress for ${Math.round(ms / 1000)} s`)) }, ms)
    }
    xhr.open(method, url)
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value)
    xhr.upload.onprogress = (event) => { arm(); if (onProgress) onProgress(event.loaded) }
    xhr.upload.onload = () => arm(ANSWER_MS) // the body is out: the server may take a while (hashing, storing)
    xhr.onload = () => {
      clearTimeout(timer)
      // read only when exposed: asking a server that does not expose it (CORS) logs an error in the console
      const exposed = /^x-reason:/im.test(xhr.getAllResponseHeaders())
      resolve({
        status: xhr.status,
        body: xhr.responseText,
        reason: (exposed && xhr.getResponseHeader('X-Reason')) || '',
        headers: xhr.getAllResponseHeaders(), // what the server exposes (resumable uploads: Upload-Offset, Location)
      })
    }
    xhr.onerror = () => { clearTimeout(timer); reject(new Error('network error (server down, or CORS refused)')) }
    arm()
    xhr.send(body)
  })
}
