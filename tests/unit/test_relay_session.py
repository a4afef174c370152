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
    session.receive('["CLOSED","x","auth-required: sign in"]')
    assert "x" not in session.subscriptions
    assert session.last_notice == "auth-required: sign in"


def test_events_published_offline_are_sent_on_open_and_ok_clears_them() -> None:
    secret, _ = keypair(1)
    event = sign_event({"kind": 1, "content": "hi"}, secret)
    session = RelaySession("wss://relay.example")
    assert session.publish(event) == []
    assert event["id"] in session.pending_ok
    assert [json.loads(m) for m in session.on_open()] == [["EVENT", event]]
    message = session.receive(json.dumps(["OK", event["id"], True, ""]))
    assert message == nip01.OkMessage(event["id"], True, "")
    assert session.pending_ok == set()
    assert session.on_open() == []  # nothing left to flush


def test_malformed_messages_are_counted_not_raised() -> None:
    session = RelaySession("wss://relay.example")
    for text in ("not json", "[]", '["EVENT"]', '{"a":1}', '["WHAT","x"]'):
        assert session.receive(text) is None
    assert session.protocol_errors == 5
    assert isinstance(session.receive('["NOTICE","slow down"]'), nip01.NoticeMessage)
    assert session.last_notice == "slow down"
