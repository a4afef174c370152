"""The protocol state of one relay connection, without the socket: what to send when, and what came back.

The browser adapter (browser/relay_pool.py) owns the WebSocket and feeds its events in here; every decision
(which REQs to replay after a reconnect, which events wait for the socket, which OKs are outstanding) is made
here, so it is tested under CPython.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asknostr import nip01


@dataclass
class RelaySession:
    url: str
    connected: bool = False
    subscriptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    eose: set[str] = field(default_factory=set)
    pending_ok: dict[str, str] = field(default_factory=dict)
    """Events not yet acknowledged with an OK: id -> EVENT message. Sent again after every reconnect."""
    sent: set[str] = field(default_factory=set)
    """Ids of pending events already written to the current socket."""
    closed_by_relay: dict[str, str] = field(default_factory=dict)
    """Subscriptions the relay CLOSED (id -> reason); they are asked for again after the next reconnect."""
    protocol_errors: int = 0
    last_notice: str = ""

    def on_open(self) -> list[str]:
        """The socket opened: replay every subscription, then flush events waiting to be published."""
        self.connected = True
        self.closed_by_relay.clear()
        messages = [nip01.req_message(sid, filters) for sid, filters in self.subscriptions.items()]
        messages += self.pending_ok.values()
        self.sent = set(self.pending_ok)
        return messages

    def on_close(self) -> None:
        """The socket closed: whatever was sent but not acknowledged goes out again on the next open."""
        self.connected = False
        self.eose.clear()
        self.sent.clear()

    def subscribe(self, subscription_id: str, filters: list[dict[str, Any]]) -> list[str]:
        """Open or replace a subscription; an empty filter list closes it."""
        if not filters:
            return self.unsubscribe(subscription_id)
        if self.subscriptions.get(subscription_id) == filters:
            return []
        self.subscriptions[subscription_id] = filters
        self.eose.discard(subscription_id)
        return [nip01.req_message(subscription_id, filters)] if self.connected else []

    def unsubscribe(self, subscription_id: str) -> list[str]:
        if self.subscriptions.pop(subscription_id, None) is None:
            return []
        self.eose.discard(subscription_id)
        self.closed_by_relay.pop(subscription_id, None)
        return [nip01.close_message(subscription_id)] if self.connected else []

    def publish(self, event: nip01.Event) -> list[str]:
        """Send now when connected, else keep it for the next open; kept until the relay answers OK."""
        message = nip01.event_message(event)
        if event["id"] in self.sent:
            return []
        self.pending_ok[event["id"]] = message
        if self.connected:
            self.sent.add(event["id"])
            return [message]
        return []

    def is_pending(self, event_id: str) -> bool:
        """Waiting for the relay's OK (queued while disconnected, or sent and unanswered)."""
        return event_id in self.pending_ok

    def receive(self, text: str) -> nip01.RelayMessage | None:
        """Parse one message from the relay and update the state; None (and a count) for malformed ones."""
        try:
            message = nip01.parse_relay_message(text)
        except ValueError:
            self.protocol_errors += 1
            return None
        if isinstance(message, nip01.EoseMessage):
            self.eose.add(message.subscription_id)
        elif isinstance(message, nip01.OkMessage):
            self.pending_ok.pop(message.event_id, None)
            self.sent.discard(message.event_id)
        elif isinstance(message, nip01.NoticeMessage):
            self.last_notice = message.message
        elif isinstance(message, nip01.ClosedMessage):
            # kept in `subscriptions`: a refusal ("rate-limited", "auth-required") is not forever
            self.closed_by_relay[message.subscription_id] = message.message
            self.last_notice = message.message
        return message
