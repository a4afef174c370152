"""Who you are: the header's chip, Settings > Profile (your npub with a Copy button, your name) and Settings >
Key (import an nsec, make a new key, show your nsec)."""

from __future__ import annotations

import json
from typing import Any

from pyscript import window

from asknostr import nip01, nip02, nip19
from asknostr.browser import crypto, dom, feed_cache, signer
from asknostr.browser.forms import Forms
from asknostr.browser.publisher import Publisher
from asknostr.feed import Feed


class IdentityPanel:
    def __init__(self, me: signer.Signer, feed: Feed, publisher: Publisher, forms: Forms) -> None:
        self.me, self.feed, self.publisher, self.forms = me, feed, publisher, forms
        self.own_profile_event: nip01.Event | None = None
        forms.on("profile-form", "submit", self.on_profile)
        forms.on("key-form", "submit", self.on_import_key)
        forms.on("new-key", "click", self.on_new_key)
        forms.on("reveal-key", "click", self.on_reveal_key)
        forms.on("copy-npub", "click", self.on_copy_npub)

    def show(self) -> None:
        dom.set_text("npub", nip19.short_npub(self.me.pubkey))
        dom.set_text("npub-full", nip19.npub_encode(self.me.pubkey))
        dom.set_text("identity-kind", f"{self.me.kind}:")
        if signer.has_extension():
            dom.set_text("key-result", "Your browser extension holds your key.")
            dom.by_id("import-key").disabled = True

    def render(self) -> None:
        """The header's chip: the user's name once their profile has one (else the short npub)."""
        dom.set_text("npub", self.feed.label(self.me.pubkey))

    def own_profile(self, event: nip01.Event) -> None:
        """The user's kind 0, from a relay or just published."""
        kept = self.own_profile_event
        if kept is None or nip02.supersedes(event["created_at"], event["id"], kept["created_at"], kept["id"]):
            self.own_profile_event = event
            own = self.feed.profile(self.me.pubkey)
            name_input = dom.by_id("profile-name")
            if own and not name_input.value:
                name_input.value = own.display_name or own.name
            self.render()

    async def on_copy_npub(self, _event: Any, _form: dict[str, str]) -> None:
        async def copy() -> str:
            await dom.copy_text(nip19.npub_encode(self.me.pubkey))
            return "your npub is copied: give it to people who want to follow you"

        await self.forms.guarded("profile-result", copy)

    async def on_profile(self, _event: Any, form: dict[str, str]) -> None:
        name = form["profile-name"].strip()

        def build() -> tuple[str, list[list[str]]]:
            fields: dict[str, Any] = {}
            if self.own_profile_event:  # keep every field other clients set (picture, about, lud16…)
                try:
                    loaded = json.loads(self.own_profile_event["content"])
                    fields = loaded if isinstance(loaded, dict) else {}
                except ValueError:
                    fields = {}
            fields.update(name=name, display_name=name)
            return json.dumps(fields, ensure_ascii=False), []

        async def save() -> str:
            if not name:
                raise ValueError("enter a name")
            return await self.publisher.edit_replaceable(0, build)

        await self.forms.guarded("profile-result", save)

    async def on_import_key(self, _event: Any, form: dict[str, str]) -> None:
        async def import_key() -> str:
            secret = nip19.secret_key_from_input(form["nsec-input"])
            if secret == getattr(self.me, "secret_hex", None):
                return "that is already your key"
            question = "Replace the key in this browser with the imported one? Without its nsec, the old one is lost."
            return await _replace_key(question, secret, "key imported: reloading…")

        await self.forms.guarded("key-result", import_key)

    async def on_new_key(self, _event: Any, _form: dict[str, str]) -> None:
        async def new_key() -> str:
            question = "Replace this key with a new one? Save your current nsec first (Show my nsec)."
            return await _replace_key(question, crypto.generate_secret_key(), "new key: reloading…")

        await self.forms.guarded("key-result", new_key)

    async def on_reveal_key(self, _event: Any, _form: dict[str, str]) -> None:
        async def reveal() -> str:
            secret = getattr(self.me, "secret_hex", None)
            if not secret:
                raise ValueError("your browser extension holds your key; this app never sees it")
            return f"your nsec (keep it secret, keep it safe): {nip19.nsec_encode(secret)}"

        await self.forms.guarded("key-result", reveal)


async def _replace_key(question: str, secret: str, done: str) -> str:
    """The user's key replaced by `secret` once they agree to `question`; the app starts again under it."""
    if not window.confirm(question):
        return "kept the current key"
    await signer.store_secret_key(secret)
    await feed_cache.clear()  # the last feed was the old identity's
    window.location.reload()
    return done
