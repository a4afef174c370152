"""The resumable upload's client state machine (asknostr.resumable_upload), driven by the answers the Bridge gives
(bridge/resumable.py; tests/bridge/test_resumable.py shows them on the wire)."""

from __future__ import annotations

from asknostr.resumable_upload import (
    CHUNK,
    MIN_RESUMABLE,
    RETRY_DELAYS,
    Answer,
    Create,
    Done,
    Failed,
    FallBack,
    Head,
    Patch,
    Session,
    Stored,
    Support,
    Upload,
    parse_headers,
    parse_limit,
    parse_options,
    sf_integer,
    wants_resumable,
)

SHA = "ab" * 32
LOCATION = "http://127.0.0.1:9/upload/" + "x" * 43


def created(offset: int = 0) -> Answer:
    headers = {"location": LOCATION, "upload-offset": str(offset), "upload-limit": "max-size=100, max-age=86400"}
    return Answer(201, headers)


def session(size: int, expires: int = 0) -> Session:
    return Session("http://127.0.0.1:9", LOCATION, SHA, size, "video/mp4", "a.mp4", "cd" * 20, 1, expires)


def test_fields_parse_as_structured_fields() -> None:
    assert sf_integer("42") == 42 and sf_integer("42;x=1") == 42
    assert sf_integer("-1") is None and sf_integer("4.2") is None and sf_integer(None) is None
    assert parse_limit("max-size=4294967296, max-age=3600") == {"max-size": 4294967296, "max-age": 3600}
    assert parse_limit("max-size=x, min-size=1") == {"min-size": 1}
    headers = parse_headers("Upload-Offset: 8\r\nX-Reason: no\r\nvia: a\r\nVia: b\r\n")
    assert headers == {"upload-offset": "8", "x-reason": "no", "via": "a, b"}


def test_options_tell_whether_a_server_resumes() -> None:
    told = parse_options(204, {"accept-patch": "application/partial-upload", "upload-limit": "max-size=1000"})
    assert told == Support(True, 1000)
    assert parse_options(204, {}) == Support(False)
    assert parse_options(204, {"accept-patch": "application/json-patch+json"}) == Support(False)
    assert parse_options(405, {"accept-patch": "application/partial-upload"}) == Support(False)
    assert not wants_resumable(told, MIN_RESUMABLE) and wants_resumable(told, MIN_RESUMABLE + 1)
    assert not wants_resumable(Support(False), 10 * MIN_RESUMABLE)


def test_a_whole_upload_goes_in_chunks_from_the_servers_offsets() -> None:
    size = 2 * CHUNK + 5
    up = Upload(size)
    assert up.next_step() == Create()
    step = up.answer(Create(), created())
    assert step == Patch(0, CHUNK, False)
    step = up.answer(step, Answer(204, {"upload-offset": str(CHUNK), "upload-complete": "?0"}))
    assert step == Patch(CHUNK, 2 * CHUNK, False) and up.offset == CHUNK
    step = up.answer(step, Answer(204, {"upload-offset": str(2 * CHUNK)}))
    assert step == Patch(2 * CHUNK, size, True)
    assert up.answer(step, Answer(201, {"upload-complete": "?1"}, '{"url": "u"}')) == Done('{"url": "u"}')
    assert up.offset == size and up.sent == size


def test_a_cut_off_chunk_asks_the_offset_and_resends_at_most_that_chunk() -> None:
    size = 3 * CHUNK
    up = Upload(size)
    first = up.answer(Create(), created())
    second = up.answer(first, Answer(204, {"upload-offset": str(CHUNK)}))
    step = up.answer(second, None, "network error")
    assert step == Head(RETRY_DELAYS[0])
    kept = CHUNK + 1234  # what of the cut-off chunk reached the server's disk
    step = up.answer(step, Answer(204, {"upload-offset": str(kept), "upload-complete": "?0"}))
    assert step == Patch(kept, kept + CHUNK, False)
    assert up.failures == 0  # progress: the next outage gets the whole patience again
    step = up.answer(step, Answer(204, {"upload-offset": str(kept + CHUNK)}))
    step = up.answer(step, Answer(201, {"upload-complete": "?1"}, "{}"))
    assert step == Done("{}")
    assert up.sent - size <= CHUNK  # what went twice: at most the chunk that was cut off


def test_failures_back_off_then_give_up() -> None:
    up = Upload(3 * CHUNK)
    step = up.answer(Create(), created())
    delays = []
    for _ in RETRY_DELAYS:
        step = up.answer(step, None, "down")
        assert isinstance(step, Head)
        delays.append(step.delay)
    assert delays == list(RETRY_DELAYS)
    final = up.answer(step, Answer(503))
    assert isinstance(final, Failed) and not final.refused


def test_a_server_error_or_a_400_retries_from_the_offset() -> None:
    up = Upload(3 * CHUNK)
    step = up.answer(Create(), created())
    assert isinstance(up.answer(step, Answer(500)), Head)
    up = Upload(3 * CHUNK)
    step = up.answer(Create(), created())
    assert isinstance(up.answer(step, Answer(400, {}, "cut off")), Head)


def test_409_continues_from_the_offset_the_server_gives() -> None:
    up = Upload(3 * CHUNK)
    step = up.answer(Create(), created())
    step = up.answer(step, Answer(409, {"upload-offset": "777"}))
    assert step == Patch(777, 777 + CHUNK, False)


def test_a_stored_session_asks_the_offset_first_and_a_forgotten_one_starts_over_once() -> None:
    up = Upload(3 * CHUNK, session(3 * CHUNK))
    assert up.next_step() == Head()
    step = up.answer(Head(), Answer(404, {}, "No such upload"))
    assert step == Create() and up.session is None and up.offset == 0
    step = up.answer(step, created())
    assert step == Patch(0, CHUNK, False)
    final = up.answer(step, Answer(410))
    assert isinstance(final, Failed)  # lost twice: this server is given up


def test_a_finished_upload_whose_answer_was_lost_is_stored() -> None:
    up = Upload(3 * CHUNK, session(3 * CHUNK))
    done = {"upload-offset": str(3 * CHUNK), "upload-complete": "?1", "upload-length": str(3 * CHUNK)}
    assert up.answer(Head(), Answer(204, done)) == Stored()


def test_refusals_fail_or_fall_back_to_a_plain_put() -> None:
    for status in (413, 401, 403):
        step = Upload(3 * CHUNK).answer(Create(), Answer(status, {"x-reason": "no"}))
        assert isinstance(step, Failed) and step.refused and "no" in step.reason
    for status in (429, 405, 501):
        assert isinstance(Upload(3 * CHUNK).answer(Create(), Answer(status)), FallBack)
    assert isinstance(Upload(3 * CHUNK).answer(Create(), Answer(201, {})), FallBack)  # no Location
    assert isinstance(Upload(3 * CHUNK).answer(Create(), None, "network"), FallBack)
    up = Upload(3 * CHUNK)
    step = up.answer(Create(), created())
    mismatch = up.answer(step, Answer(422, {"upload-complete": "?1"}, "sha256 is not"))
    assert isinstance(mismatch, Failed) and mismatch.refused
    up = Upload(3 * CHUNK, session(3 * CHUNK))
    other = up.answer(Head(), Answer(204, {"upload-offset": "0", "upload-length": "5"}))
    assert isinstance(other, Failed) and other.refused


def test_sessions_round_trip_and_damaged_ones_are_dropped() -> None:
    kept = session(3 * CHUNK, expires=2000)
    assert Session.from_json(kept.to_json()) == kept
    assert Session.from_json({**kept.to_json(), "sha256": "nope"}) is None
    assert Session.from_json({**kept.to_json(), "location": "javascript:x"}) is None
    assert Session.from_json({"server": "x"}) is None and Session.from_json("x") is None
    assert kept.stale(2000) and not kept.stale(1999)
    assert not session(5).stale(10**12)  # no expiry told: the server is asked
