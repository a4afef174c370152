import pytest

from asknostr import nip01
from bridge.errors import BridgeError
from bridge.nip98 import check_request, payload_hash
from tests.unit.nostr_keys import keypair, sign_event

URL = "http://127.0.0.1:8700/api/ping"
BODY = b'{"url": "http://x/y", "magnet": "magnet:?xt=urn:btih:00"}'
NOW = 1_800_000_000


def auth(**changes: object) -> nip01.Event:
    secret, _ = keypair(98)
    template: dict[str, object] = {
        "kind": 27235,
        "created_at": NOW - 5,
        "tags": [["u", URL], ["method", "POST"], ["payload", payload_hash(BODY)]],
        "content": "",
    }
    template.update(changes)
    return nip01.check_event(sign_event(template, secret))


def test_a_matching_event_authorises_the_request() -> None:
    assert check_request(auth(), urls=[URL], method="post", body=BODY, now=NOW) == keypair(98)[1]
    # scheme and host case do not matter; the query does
    assert check_request(auth(), urls=["HTTP://127.0.0.1:8700/api/ping"], method="POST", body=BODY, now=NOW)


@pytest.mark.parametrize(
    ("changes", "request_changes", "reason"),
    [
        ({"kind": 24242}, {}, "kind 27235"),
        ({"created_at": NOW - 61}, {}, "last 60 s"),
        ({"created_at": NOW + 61}, {}, "last 60 s"),
        ({}, {"urls": [URL + "?x=1"]}, "another URL"),
        ({}, {"urls": ["http://127.0.0.1:8701/api/ping"]}, "another URL"),
        ({}, {"method": "PUT"}, "another method"),
        ({}, {"body": BODY + b" "}, "payload tag is not the sha256"),
        ({"tags": [["u", URL], ["method", "POST"]]}, {}, "no payload tag"),
        ({"tags": [["method", "POST"], ["payload", payload_hash(BODY)]]}, {}, "another URL"),
    ],
)
def test_anything_else_is_refused_with_the_reason(
    changes: dict[str, object], request_changes: dict[str, object], reason: str
) -> None:
    request: dict[str, object] = {"urls": [URL], "method": "POST", "body": BODY, "now": NOW} | request_changes
    with pytest.raises(BridgeError, match=reason) as info:
        check_request(auth(**changes), **request)  # type: ignore[arg-type]
    assert info.value.status == 401
