// Thin JS shell: what the composer needs to know about a picked file before posting it.

// SHA-256 of a File/Blob, as 64 lowercase hex.
export async function sha256 (file) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}

// "<width>x<height>" of an image or video, or "" when the browser cannot tell (audio, unknown formats).
export async function dimensions (file) {
  try {
    if (file.type.startsWith('image/')) {
      const bitmap = await createImageBitmap(file)
      const dim = `${bitmap.width}x${bitmap.height}`
      bitmap.close()
      return dim
    }
    if (file.type.startsWith('video/')) {
      const url = URL.createObjectURL(file)
      try {
        const video = document.createElement('video')
        video.preload = 'metadata'
        video.muted = true
        await new Promise((resolve, reject) => {
          video.onloadedmetadata = resolve
          video.onerror = reject
          setTimeout(reject, 5000)
          video.src = url
        })
        return video.videoWidth ? `${video.videoWidth}x${video.videoHeight}` : ''
      } finally {
        URL.revokeObjectURL(url)
      }
    }
  } catch (err) {
    return ''
  }
  return ''
}
