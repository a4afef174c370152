"""NIP-05: a person found by an internet identifier, `name@domain`, through the domain's `/.well-known/nostr.json`.

Pure: the identifier's checks, the URL to ask, and the answer's reading; the browser adapter fetches (no redirect
followed, as NIP-05 asks). A domain on this machine (localhost, a loopback address) is asked over http: a local
stack has no certificate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import ModuleType
from urllib.parse import quote, urlsplit


def _ipaddress() -> ModuleType:
    """The ipaddress module, imported when first needed: it is a quarter of the app's import time at start."""
    import ipaddress

    return ipaddress


_LOCAL = re.compile(r"[a-z0-9._-]+")
_HEX_KEY = re.compile(r"[0-9a-f]{64}")
MAX_ANSWER = 1 << 20
"""The largest nostr.json read (bytes): a domain's list of names, not a download."""
CONFIRMED, REFUSED, UNCHECKED = "confirmed", "refused", "unchecked"
"""What a profile's NIP-05 check found: the domain names this key; it does not; it could not be asked."""


class CouldNotAsk(ValueError):
    """The domain could not be asked (offline, no answer, refused connection): nothing is known either way."""


@dataclass(frozen=True)
class Identifier:
    name: str
    domain: str
    """Lowercase host, with a port when one was given."""

    @property
    def url(self) -> str:
        scheme = "http" if _on_this_machine(self.domain) else "https"
        return f"{scheme}://{self.domain}/.well-known/nostr.json?name={quote(self.name)}"

    def __str__(self) -> str:
        return f"{self.name}@{self.domain}"


def _on_this_machine(domain: str) -> bool:
    host = urlsplit(f"//{domain}").hostname or ""
    if host == "localhost":
        return True
    try:
        return bool(_ipaddress().ip_address(host).is_loopback)
    except ValueError:
        return False


def looks_like_identifier(text: str) -> bool:
    """Whether the follow box holds `name@domain` (or `@domain`, the domain's root name `_`)."""
    return "@" in text.strip()


def parse_identifier(text: str) -> Identifier:
    """`name@domain` (`_@domain` when the name is left out); ValueError in the app's words otherwise."""
    local, _, domain = text.strip().lower().rpartition("@")
    local = local or "_"
    if not _LOCAL.fullmatch(local):
        raise ValueError(f"{text.strip()!r}: a name may hold only letters, digits, '.', '-' and '_'")
    try:
        parts = urlsplit(f"//{domain}")
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise ValueError(f"{text.strip()!r}: not a domain") from None
    if not host or ("." not in host and host != "localhost") or parts.path or parts.query or parts.username:
        raise ValueError(f"{text.strip()!r}: not a name@domain address")
    return Identifier(local, host if port is None else f"{host}:{port}")


def pubkey_in(answer: str, identifier: Identifier) -> str:
    """The public key (hex) the domain's nostr.json gives the name; ValueError in the app's words otherwise."""
    if len(answer) > MAX_ANSWER:
        raise ValueError(f"{identifier.domain} answered with more than a list of names")
    try:
        names = json.loads(answer).get("names")
    except (ValueError, AttributeError):
        raise ValueError(f"{identifier.domain} did not answer with a nostr.json") from None
    if not isinstance(names, dict):
        raise ValueError(f"{identifier.domain} did not answer with a nostr.json")
    key = names.get(identifier.name)
    if key is None:
        raise ValueError(f"{identifier.domain} knows no {identifier.name!r}")
    if not isinstance(key, str) or not _HEX_KEY.fullmatch(key):
        raise ValueError(f"{identifier.domain} gives {identifier.name!r} a key that is not a public key")
    return key


def shown(identifier: str) -> str:
    """An identifier as people read it: `_@domain` (the domain's own name) as the domain alone."""
    return identifier.removeprefix("_@")


def status_text(identifier: str, state: str | None) -> str:
    """The line under a profile's name for its NIP-05 `identifier` and the check's `state` (None: under way)."""
    name = shown(identifier)
    if state == CONFIRMED:
        return f"✓ {name}"
    if state == REFUSED:
        return f"{name} · not confirmed by its domain"
    if state == UNCHECKED:
        return f"{name} · could not be checked"
    return f"{name} · checking…"


def _private(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa")):
        return True
    try:
        address = _ipaddress().ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def checks_on_its_own(identifier: Identifier, page_host: str) -> bool:
    """Whether opening a profile may ask its domain unprompted. Not a private or loopback address: a stranger's
    profile must not make the browser probe the user's own network. Unless the app itself is served from one (a
    local stack), where such addresses are its own. Following someone by name@domain asks in any case."""
    host = urlsplit(f"//{identifier.domain}").hostname or ""
    return not _private(host) or _private(page_host)
