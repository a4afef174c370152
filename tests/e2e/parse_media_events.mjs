// An independent reading of the app's media events, with nostr-tools (not the app's own parser):
// stdin: a JSON array of events; stdout: for each, its signature check, and its NIP-94 fields (kind 1063, by
// nostr-tools' nip94.parseEvent) or its NIP-92 imeta fields (kind 1, split here as the NIP describes).
import { verifyEvent } from 'nostr-tools/pure'
import { parseEvent } from 'nostr-tools/nip94'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const events = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const imeta = (tag) => Object.fromEntries(tag.slice(1).map((entry) => {
  const space = entry.indexOf(' ')
  return [entry.slice(0, space), entry.slice(space + 1)]
}))

const out = events.map((event) => {
  const result = { id: event.id, kind: event.kind, valid: verifyEvent(event) }
  if (event.kind === 1063) result.file = parseEvent(event)
  if (event.kind === 1) {
    result.imeta = event.tags.filter((t) => t[0] === 'imeta').map(imeta)
    result.hashtags = event.tags.filter((t) => t[0] === 't').map((t) => t[1])
    result.mentions = event.tags.filter((t) => t[0] === 'e').map((t) => t[1])
  }
  return result
})
process.stdout.write(JSON.stringify(out))
