"""Who signs the user's events: a NIP-07 extension (`window.nostr`) when present, else a key kept in IndexedDB."""

from __future__ import annotations

import json
from typing import Protocol

from pyscript import window
from pyscript.ffi import to_js

from asknostr.browser import crypto, storage
from asknostr.nip01 import Event

SECRET_KEY = "identity.secret_key"


class Signer(Protocol):
    pubkey: str
    kind: str

    async def sign(self, template: dict[str, object]) -> Event: ...


class LocalKeySigner:
    kind = "local key"

    def __init__(self, secret_hex: str) -> None:
        self.secret_hex = secret_hex
        self.pubkey = crypto.public_key(secret_hex)

    async def sign(self, template: dict[str, object]) -> Event:
        return crypto.sign(template, self.secret_hex)


class ExtensionSigner:
    kind = "extension (NIP-07)"

    def __init__(self, pubkey: str) -> None:
        self.pubkey = pubkey

    async def sign(self, template: dict[str, object]) -> Event:
        signed = await window.nostr.signEvent(to_js(template, dict_converter=window.Object.fromEntries))
        event: Event = json.loads(str(window.JSON.stringify(signed)))
        return event


def has_extension() -> bool:
    return bool(getattr(window, "nostr", None))


async def load_signer() -> Signer:
    """The extension if there is one; else the stored key; else a new key, stored for next time."""
    if has_extension():
        return ExtensionSigner(str(await window.nostr.getPublicKey()))
    secret = await storage.get_text(SECRET_KEY)
    storage.ask_to_persist()  # the key lives here: ask the browser not to evict this origin's storage
    if not secret:
        secret = crypto.generate_secret_key()
        await storage.set_text(SECRET_KEY, secret)
    return LocalKeySigner(secret)


async def store_secret_key(secret_hex: str) -> None:
    await storage.set_text(SECRET_KEY, secret_hex)
