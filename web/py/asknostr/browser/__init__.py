"""Adapters that touch the browser (DOM, WebSocket, IndexedDB, JS crypto). Imported only under PyScript."""
