// Thin JS shell: what a post says of a picked image or video before anyone loads its bytes. Its size in pixels
// (imeta `dim`), a BlurHash for the placeholder (imeta `blurhash`, the field most Nostr clients read) and, for a
// video, a poster: one frame as a small JPEG (imeta `image`), so the feed shows a picture, not a black box. Made
// in this browser from the file itself; whatever it cannot decode is left out (the post goes out without it).
import { encode } from '../vendor/blurhash.js'

const POSTER_SIDE = 640 // pixels on the long side of a poster: a card's width, tens of KB as JPEG
const POSTER_QUALITY = 0.8
const HASH_SIDE = 32 // pixels the blurhash is computed from: it keeps only 4x3 colour waves
const WAIT_MS = 5000 // a video the browser cannot decode gives no event at all (a codec it lacks)

function once (target, ok, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ok} within ${ms} ms`)), ms)
    target.addEventListener(ok, () => { clearTimeout(timer); resolve() }, { once: true })
    target.addEventListener('error', () => { clearTimeout(timer); reject(new Error('the browser cannot decode it')) }, { once: true })
  })
}

function fit (width, height, side) {
  const scale = Math.min(1, side / Math.max(width, height))
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))]
}

function canvas (width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height)
  const node = document.createElement('canvas')
  node.width = width
  node.height = height
  return node
}

function toBlob (surface, type, quality) {
  if (surface.convertToBlob) return surface.convertToBlob({ type, quality })
  return new Promise((resolve, reject) => surface.toBlob((b) => (b ? resolve(b) : reject(new Error('no image'))), type, quality))
}

// BlurHash of an image source (a video, an ImageBitmap) of that size: 4x3 components, 3x4 when upright.
export function blurhashOf (source, width, height) {
  const [w, h] = fit(width, height, HASH_SIDE)
  const surface = canvas(w, h)
  const context = surface.getContext('2d', { willReadFrequently: true })
  context.drawImage(source, 0, 0, w, h)
  const pixels = context.getImageData(0, 0, w, h).data
  return width >= height ? encode(pixels, w, h, 4, 3) : encode(pixels, w, h, 3, 4)
}

// When the poster's frame is taken: ~1 s in, or 10 % into a short clip (past a fade from black); the first frame
// when the length is unknown (a live recording's WebM says Infinity).
export function posterTime (duration) {
  return Number.isFinite(duration) && duration > 0 ? Math.min(1, duration / 10) : 0
}

async function videoPreview (file, name) {
  const url = URL.createObjectURL(file)
  const video = document.createElement('video')
  video.muted = true
  video.playsInline = true
  video.preload = 'auto'
  try {
    const metadata = once(video, 'loadedmetadata')
    video.src = url
    await metadata
    const width = video.videoWidth
    const height = video.videoHeight
    const result = { dim: width && height ? `${width}x${height}` : '', blurhash: '', poster: null }
    if (!result.dim) return result
    try {
      if (video.readyState < 2) await once(video, 'loadeddata') // a frame to draw
      const at = posterTime(video.duration)
      if (at > 0) {
        const seeked = once(video, 'seeked')
        video.currentTime = at
        await seeked
      }
      const [w, h] = fit(width, height, POSTER_SIDE)
      const surface = canvas(w, h)
      surface.getContext('2d').drawImage(video, 0, 0, w, h)
      const blob = await toBlob(surface, 'image/jpeg', POSTER_QUALITY)
      result.poster = new File([blob], `${name.replace(/\.[^.]*$/, '')}.poster.jpg`, { type: 'image/jpeg' })
      result.blurhash = blurhashOf(surface, w, h)
    } catch (err) {
      console.warn(`no poster for ${name}: ${err.message}`)
    }
    return result
  } finally {
    video.removeAttribute('src')
    video.load() // lets the decoder go now, not at garbage collection
    URL.revokeObjectURL(url)
  }
}

async function imagePreview (file) {
  const bitmap = await createImageBitmap(file)
  try {
    return { dim: `${bitmap.width}x${bitmap.height}`, blurhash: blurhashOf(bitmap, bitmap.width, bitmap.height), poster: null }
  } finally {
    bitmap.close()
  }
}

// {dim, blurhash, poster} of a picked file: poster a JPEG File (videos only) or null; "" for what is unknown.
// Never rejects: a file the browser cannot read gives all three empty.
export async function preview (file, name = file.name || 'file') {
  try {
    if (file.type.startsWith('image/')) return await imagePreview(file)
    if (file.type.startsWith('video/')) return await videoPreview(file, name)
  } catch (err) {
    console.warn(`nothing to preview in ${name}: ${err.message}`)
  }
  return { dim: '', blurhash: '', poster: null }
}
