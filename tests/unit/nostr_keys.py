"""Test helper: deterministic keys, and signing and verifying Nostr events with coincurve.

It computes ids with its own json.dumps call (JSON.stringify semantics), independent of asknostr.
"""

import hashlib
import json
import time
from typing import Any

import coincurve


def keypair(seed: int) -> tuple[str, str]:
    """(secret_hex, pubkey_hex), the same for the same seed."""
    secret = hashlib.sha256(f"asknostr test key {seed}".encode()).digest()
    pubkey = coincurve.PublicKeyXOnly.from_secret(secret).format()
    return secret.hex(), pubkey.hex()


def _event_hash(event: dict[str, Any]) -> str:
    fields = [0, event["pubkey"], event["created_at"], event["kind"], event["tags"], event["content"]]
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def sign_event(template: dict[str, Any], secret_hex: str) -> dict[str, Any]:
    """A signed event from a template with kind and optional content, tags, created_at (default: now)."""
    secret = bytes.fromhex(secret_hex)
    event: dict[str, Any] = {
        "pubkey": coincurve.PublicKeyXOnly.from_secret(secret).format().hex(),
        "created_at": template.get("created_at", int(time.time())),
        "kind": template["kind"],
        "tags": [list(tag) for tag in template.get("tags", [])],
        "content": template.get("content", ""),
    }
    event["id"] = _event_hash(event)
    aux = hashlib.sha256(secret + bytes.fromhex(event["id"])).digest()  # deterministic, per BIP-340
    event["sig"] = coincurve.PrivateKey(secret).sign_schnorr(bytes.fromhex(event["id"]), aux).hex()
    return event


def verify_event(event: dict[str, Any]) -> bool:
    """Whether the id matches the content and sig is a valid Schnorr signature of it by pubkey."""
    try:
        if event["id"] != _event_hash(event):
            return False
        pubkey = coincurve.PublicKeyXOnly(bytes.fromhex(event["pubkey"]))
        return bool(pubkey.verify(bytes.fromhex(event["sig"]), bytes.fromhex(event["id"])))
    except (KeyError, TypeError, ValueError):
        return False
