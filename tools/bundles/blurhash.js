// Entry of the vendored `static/vendor/blurhash.js` (bundled by tools/vendor.py with esbuild): Wolt's BlurHash
// encoder, for the placeholder of a posted image or video poster (imeta `blurhash`). The feed decodes in Python
// (asknostr.blurhash), so only the encoder ships.
export { encode } from 'blurhash'
