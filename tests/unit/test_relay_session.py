import json

from asknostr import nip01
from asknostr.relay_session import RelaySession
from tests.unit.nostr_keys import keypair, sign_event

FILTERS = [{"kinds": [1], "authors": ["a" * 64]}]


def test_subscriptions_wait_for_the_socket_and_are_replayed_after_a_reconnect() -> None:
    session = RelaySession("wss://relay.example")
    assert session.subscribe("feed", FILTERS) == []  # not connected yet
    assert [json.loads(m) for m in session.on_open()] == [["REQ", "feed", *FILTERS]]
    session.receive('["EOSE","feed"]')
    assert "feed" in session.eose
    session.on_close()
    assert session.eose == set()
    assert [json.loads(m) for m in session.on_open()] == [["REQ", "feed", *FILTERS]]


def test_changing_and_closing_subscriptions() -> None:
    session = RelaySession("wss://relay.example")
    session.on_open()
    assert json.loads(session.subscribe("feed", FILTERS)[0])[0] == "REQ"
    assert session.subscribe("feed", FILTERS) == []  # unchanged: nothing to send
    assert session.subscribe("feed", []) == [nip01.close_message("feed")]
    assert session.unsubscribe("feed") == []
    session.subscribe("x", FILTERS)
    session.receive('["CLOSED","x","rate-limited: slow down"]')
    assert session.closed_by_relay == {"x": "rate-limited: slow down"}
    assert session.last_notice == "rate-limited: slow down"
    # a refusal is not forever: the subscription is asked for again after a reconnect
    session.on_close()
    assert [json.loads(m)[1] for m in session.on_open()] == ["x"]
    assert session.closed_by_relay == {}


def test_events_published_offline_are_sent_on_open_and_ok_clears_them() -> None:
    secret, _ = keypair(1)
    event = sign_event({"kind": 1, "content": "hi"}, secret)
    session = RelaySession("wss://relay.example")
    assert session.publish(event) == []
    assert event["id"] in session.pending_ok
    assert [json.loads(m) for m in session.on_open()] == [["EVENT", event]]
    message = session.receive(json.dumps(["OK", event["id"], True, ""]))
    assert message == nip01.OkMessage(event["id"], True, "")
    assert session.pending_ok == {}
    assert not session.is_pending(event["id"])
    assert session.on_open() == []  # nothing left to flush


def test_an_event_the_relay_never_acknowledged_is_sent_again_after_a_reconnect() -> None:
    secret, _ = keypair(2)
    event = sign_event({"kind": 1, "content": "lost in transit"}, secret)
    session = RelaySession("wss://relay.example")
    session.on_open()
    assert len(session.publish(event)) == 1
    assert session.publish(event) == []  # already on this socket: not twice
    session.on_close()  # dropped before the OK
    assert session.is_pending(event["id"])
    assert [json.loads(m) for m in session.on_open()] == [["EVENT", event]]
    session.receive(json.dumps(["OK", event["id"], False, "blocked: no"]))
    assert not session.is_pending(event["id"])  # an answer, even a refusal, ends the wait
    session.on_close()
    assert session.on_open() == []


def test_malformed_messages_are_counted_not_raised() -> None:
    session = RelaySession("wss://relay.example")
    for text in ("not json", "[]", '["EVENT"]', '{"a":1}', '["WHAT","x"]'):
        assert session.receive(text) is None
    assert session.protocol_errors == 5
    assert isinstance(session.receive('["NOTICE","slow down"]'), nip01.NoticeMessage)
    assert session.last_notice == "slow down"
