"""The Bridge: serves the PWA and (later) is the Blossom server of last resort that seeds media over WebRTC."""
