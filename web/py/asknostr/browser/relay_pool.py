"""WebSockets to the user's relays: connect, reconnect with backoff, and route what arrives.

Protocol decisions live in the pure `relay_session.RelaySession`; this module only owns sockets and timers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pyscript import window
from pyscript.ffi import create_proxy

from asknostr import nip01
from asknostr.backoff import Backoff
from asknostr.relay_session import RelaySession

MessageHandler = Callable[[str, nip01.RelayMessage], None]
StateHandler = Callable[[], None]
PUBLISH_TIMEOUT = 8.0


class RelayConnection:
    def __init__(self, url: str, on_message: MessageHandler, on_state: StateHandler) -> None:
        self.session = RelaySession(url)
        self.url = url
        self.state = "connecting"
        self._on_message = on_message
        self._on_state = on_state
        self._backoff = Backoff(base=1.0, cap=30.0)
        self._socket: Any = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed_for_good = False
        self._proxies = [
            create_proxy(self._opened),
            create_proxy(self._message),
            create_proxy(self._closed),
        ]
        self._ok_waiters: dict[str, list[asyncio.Future[nip01.OkMessage]]] = {}
        self._connect()

    def _connect(self) -> None:
        self._set_state("connecting")
        try:
            socket = window.WebSocket.new(self.url)
        except Exception as exc:  # a malformed URL, or ws:// from an https page (mixed content): final
            self._set_state(f"error: {exc}")
            return
        socket.onopen, socket.onmessage, socket.onclose = self._proxies
        self._socket = socket

    def _set_state(self, state: str) -> None:
        self.state = state
        self._on_state()

    def _send(self, messages: list[str]) -> None:
        for message in messages:
            self._socket.send(message)

    def _opened(self, _event: Any) -> None:
        self._set_state("open")
        self._send(self.session.on_open())

    def _message(self, event: Any) -> None:
        data = event.data
        if not isinstance(data, str):
            return
        message = self.session.receive(data)
        if message is None:
            return
        if isinstance(message, nip01.EoseMessage):
            # the relay answers queries: only now is it healthy (one that accepts and drops keeps backing off)
            self._backoff.reset()
        if isinstance(message, nip01.OkMessage):
            for waiter in self._ok_waiters.pop(message.event_id, []):
                if not waiter.done():
                    waiter.set_result(message)
        self._on_message(self.url, message)

    def _closed(self, _event: Any) -> None:
        self.session.on_close()
        self._socket = None
        if self._closed_for_good:
            self._set_state("closed")
            for proxy in self._proxies:
                proxy.destroy()
            return
        self._set_state("reconnecting")
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        delay = self._backoff.next_delay()
        self._timer = asyncio.get_event_loop().call_later(delay, self._reconnect)

    def _reconnect(self) -> None:
        self._timer = None
        if not self._closed_for_good and self._socket is None:
            self._connect()

    def reconnect_now(self) -> None:
        """The network is back: skip the rest of the backoff wait."""
        if self._timer is not None:
            self._timer.cancel()
            self._backoff.reset()
            self._reconnect()

    def subscribe(self, subscription_id: str, filters: list[dict[str, Any]]) -> None:
        self._send_if_open(self.session.subscribe(subscription_id, filters))

    def _send_if_open(self, messages: list[str]) -> None:
        if self._socket is not None and self.session.connected:
            self._send(messages)

    async def publish(self, event: nip01.Event) -> nip01.OkMessage:
        """Send (now or once connected) and wait for the relay's OK, at most PUBLISH_TIMEOUT seconds."""
        waiter: asyncio.Future[nip01.OkMessage] = asyncio.get_event_loop().create_future()
        self._ok_waiters.setdefault(event["id"], []).append(waiter)
        self._send_if_open(self.session.publish(event))
        try:
            return await asyncio.wait_for(waiter, PUBLISH_TIMEOUT)
        except TimeoutError:
            waiters = self._ok_waiters.get(event["id"], [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._ok_waiters.pop(event["id"], None)
            return nip01.OkMessage(event["id"], False, f"no answer within {PUBLISH_TIMEOUT:.0f} s ({self.state})")

    def close(self) -> None:
        self._closed_for_good = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._socket is not None:
            self._socket.close()  # the close event finishes the job
        else:
            self._set_state("closed")
            for proxy in self._proxies:
                proxy.destroy()


class RelayPool:
    """All of the user's relays; subscriptions apply to every one of them."""

    def __init__(self, on_message: MessageHandler, on_state: StateHandler) -> None:
        self.connections: dict[str, RelayConnection] = {}
        self._subscriptions: dict[str, list[dict[str, Any]]] = {}
        self._on_message = on_message
        self._on_state = on_state
        self._online_proxy = create_proxy(self._network_back)
        window.addEventListener("online", self._online_proxy)

    def _network_back(self, _event: Any) -> None:
        for connection in self.connections.values():
            connection.reconnect_now()

    def set_relays(self, urls: list[str]) -> None:
        for url in list(self.connections):
            if url not in urls:
                self.connections.pop(url).close()
        for url in urls:
            if url not in self.connections:
                connection = RelayConnection(url, self._on_message, self._on_state)
                for sid, filters in self._subscriptions.items():
                    connection.subscribe(sid, filters)
                self.connections[url] = connection
        self._on_state()

    def subscribe(self, subscription_id: str, filters: list[dict[str, Any]]) -> None:
        if filters:
            self._subscriptions[subscription_id] = filters
        else:
            self._subscriptions.pop(subscription_id, None)
        for connection in self.connections.values():
            connection.subscribe(subscription_id, filters)

    async def publish(self, event: nip01.Event) -> dict[str, nip01.OkMessage]:
        """Send to every relay; each relay's answer (or a timeout) by URL."""
        urls = list(self.connections)
        results = await asyncio.gather(*(self.connections[u].publish(event) for u in urls))
        return dict(zip(urls, results, strict=True))

    def is_pending(self, event_id: str) -> bool:
        """Some relay still has the event queued or unanswered: it goes out when that relay is back."""
        return any(c.session.is_pending(event_id) for c in self.connections.values())

    def eose_count(self, subscription_id: str) -> tuple[int, int]:
        """(relays that finished answering the subscription's stored events, relays now open)."""
        answered = sum(1 for c in self.connections.values() if subscription_id in c.session.eose)
        return answered, self.open_count()

    def open_count(self) -> int:
        return sum(1 for c in self.connections.values() if c.state == "open")
