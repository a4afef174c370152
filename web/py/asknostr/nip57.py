"""NIP-57 zap receipts (kind 9735): which creators the user has zapped.

A receipt counts only when its `description` holds a zap request (kind 9734) that the user signed (id and
signature checked with the given verifier): anyone can publish a receipt naming anyone.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from asknostr.nip01 import Event, EventError, check_event

KIND_ZAP_REQUEST = 9734
KIND_ZAP_RECEIPT = 9735


def zapped_creator(receipt: Event, user: str, verify: Callable[[Event], bool]) -> str | None:
    """The pubkey the user zapped, from a receipt of their own signed zap request; else None."""
    if receipt.get("kind") != KIND_ZAP_RECEIPT:
        return None
    description = next((t[1] for t in receipt.get("tags", []) if len(t) >= 2 and t[0] == "description"), None)
    if description is None:
        return None
    try:
        request = check_event(json.loads(description))
    except (ValueError, EventError):
        return None
    if request["kind"] != KIND_ZAP_REQUEST or request["pubkey"] != user or not verify(request):
        return None
    recipients = [t[1] for t in request["tags"] if len(t) >= 2 and t[0] == "p"]
    return recipients[0] if len(recipients) == 1 else None
