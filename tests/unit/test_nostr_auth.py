"""Blossom authorization events (BUD-11), checked at a fixed time."""

import base64
import json
from typing import Any

import pytest

from bridge.errors import BridgeError
from bridge.nostr_auth import authorize, parse_authorization, require_x, verify_auth_event
from tests.unit.nostr_keys import keypair, sign_event

NOW = 1_750_000_000
SHA = "b1674191a88ec5cdd733e4240a81803105dc412d6c6708d53ab94fc248f4f553"
OTHER_SHA = "0" * 64
SECRET, PUBKEY = keypair(1)


def auth_event(verb: str = "upload", *, x: str | None = SHA, **overrides: Any) -> dict[str, Any]:
    tags = [["t", verb], ["expiration", str(NOW + 600)]]
    if x is not None:
        tags.append(["x", x])
    template: dict[str, Any] = {"kind": 24242, "created_at": NOW - 10, "content": "Upload Blob", "tags": tags}
    template.update(overrides)
    return sign_event(template, SECRET)


def header(event: dict[str, Any], *, urlsafe: bool = False) -> str:
    raw = json.dumps(event).encode()
    if urlsafe:
        return "Nostr " + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return "Nostr " + base64.b64encode(raw).decode()


def rejected(hdr: str | None, verb: str = "upload", sha256: str | None = SHA, server: str | None = None) -> BridgeError:
    with pytest.raises(BridgeError) as info:
        authorize(hdr, verb, now=NOW, sha256=sha256, server=server)
    return info.value


def test_valid_event_is_accepted_in_both_base64_flavours() -> None:
    event = auth_event()
    for urlsafe in (False, True):
        assert authorize(header(event, urlsafe=urlsafe), "upload", now=NOW, sha256=SHA)["pubkey"] == PUBKEY


def test_several_x_tags_any_matches() -> None:
    event = auth_event(tags=[["t", "delete"], ["expiration", str(NOW + 60)], ["x", OTHER_SHA], ["x", SHA]])
    assert authorize(header(event), "delete", now=NOW, sha256=SHA)["id"] == event["id"]


def test_expired() -> None:
    event = auth_event(tags=[["t", "upload"], ["expiration", str(NOW - 1)], ["x", SHA]])
    assert "expired" in rejected(header(event)).reason


def test_expiration_equal_to_now_is_expired() -> None:
    event = auth_event(tags=[["t", "upload"], ["expiration", str(NOW)], ["x", SHA]])
    assert "expired" in rejected(header(event)).reason


def test_missing_or_garbled_expiration() -> None:
    assert "expiration" in rejected(header(auth_event(tags=[["t", "upload"], ["x", SHA]]))).reason
    event = auth_event(tags=[["t", "upload"], ["expiration", "soon"], ["x", SHA]])
    assert "expiration" in rejected(header(event)).reason


def test_created_at_in_the_future_beyond_a_minute_of_clock_skew() -> None:
    assert "future" in rejected(header(auth_event(created_at=NOW + 61))).reason
    assert verify_auth_event(parse_authorization(header(auth_event(created_at=NOW + 60))), "upload", now=NOW)


def test_wrong_verb() -> None:
    error = rejected(header(auth_event("delete")))
    assert error.status == 401
    assert "'t' tag" in error.reason


def test_missing_x() -> None:
    assert "no 'x' tag" in rejected(header(auth_event(x=None))).reason


def test_wrong_x() -> None:
    assert "do not include" in rejected(header(auth_event(x=OTHER_SHA))).reason


def test_x_checked_later_when_hash_unknown() -> None:
    event = authorize(header(auth_event()), "upload", now=NOW)
    require_x(event, SHA)
    with pytest.raises(BridgeError, match="do not include"):
        require_x(event, OTHER_SHA)


def test_bad_signature() -> None:
    event = auth_event()
    event["sig"] = ("1" if event["sig"][0] != "1" else "2") + event["sig"][1:]
    assert "signature" in rejected(header(event)).reason


def test_signature_by_another_key() -> None:
    event = auth_event()
    other_pubkey = keypair(2)[1]
    forged = sign_event({**event, "kind": 24242}, keypair(2)[0])
    forged_for_victim = {**forged, "pubkey": PUBKEY}  # id no longer matches
    assert "id does not match" in rejected(header(forged_for_victim)).reason
    assert forged["pubkey"] == other_pubkey


def test_wrong_kind() -> None:
    assert "kind 24242" in rejected(header(auth_event(kind=1))).reason


@pytest.mark.parametrize(
    "hdr",
    [None, "", "Nostr", "Bearer abc", "Nostr !!!not-base64!!!", "Nostr " + base64.b64encode(b"not json").decode()],
)
def test_garbage_header(hdr: str | None) -> None:
    error = rejected(hdr)
    assert error.status == 401
    assert error.reason


def test_not_an_event() -> None:
    assert "Invalid auth event" in rejected("Nostr " + base64.b64encode(b'{"kind": 24242}').decode()).reason


def test_server_tag_scoping() -> None:
    tags = [["t", "upload"], ["expiration", str(NOW + 60)], ["x", SHA], ["server", "cdn.example.com"]]
    event = auth_event(tags=tags)
    assert authorize(header(event), "upload", now=NOW, sha256=SHA, server="cdn.example.com")
    assert "other servers" in rejected(header(event), server="bridge.example.org").reason


def test_checks_follow_the_injected_clock() -> None:
    event = parse_authorization(header(auth_event()))
    assert verify_auth_event(event, "upload", now=NOW + 599, sha256=SHA)
    with pytest.raises(BridgeError, match="expired"):
        verify_auth_event(event, "upload", now=NOW + 600, sha256=SHA)
    with pytest.raises(BridgeError, match="future"):
        verify_auth_event(event, "upload", now=NOW - 71, sha256=SHA)


def test_malformed_sha256_is_a_bad_request() -> None:
    assert rejected(header(auth_event()), sha256="XYZ").status == 400
