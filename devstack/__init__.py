"""The local stack: the Bridge serving the PWA, a Nostr relay and a WebSocket tracker, as child processes."""
