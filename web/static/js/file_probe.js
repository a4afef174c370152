// Thin JS shell: what the composer needs to know about a picked file before posting it.

// {dim, blurhash, poster} of an image or video: its size, its placeholder and a video's poster (poster.js).
export { preview } from './poster.js'

// SHA-256 of a File/Blob, as 64 lowercase hex.
export async function sha256 (file) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}
