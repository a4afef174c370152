"""Resumable uploads, client side (the IETF draft "Resumable Uploads for HTTP", as the Bridge speaks it): the state
machine of one upload, and the session an interrupted one leaves in IndexedDB. Pure: the browser's adapter
(the uploads module) sends what `next_step` asks and hands every answer back to `answer`.

An upload is created with an empty body (the 104 interim answer that would carry the Location while a body is sent
is invisible to a browser), then sent in CHUNK-byte PATCHes, each from the server's offset. A chunk cut off (network
error, stall, a reload, a restart of the server) costs at most that chunk: the offset is asked again (HEAD) and the
upload continues from what the server kept. A stored session whose upload is gone (404/410, expired) starts over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from asknostr.nip01 import is_hex64
from asknostr.nip92 import is_http_url

MIB = 1024 * 1024
CHUNK = 8 * MIB
"""Bytes per PATCH: what a cut-off request can cost again, and the granularity of progress."""
MIN_RESUMABLE = 8 * MIB
"""Files up to this size go in one plain PUT: a cut-off costs little, and every Blossom server takes it."""
PARTIAL_UPLOAD = "application/partial-upload"
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0)
"""Seconds before asking the offset again after each failure in a row; past the last, the upload fails (a server
down this long is passed over for the next one, as a plain upload's stall is)."""
MAX_RESTARTS = 1
"""How often an upload whose server forgot it (404/410) starts over from zero before it fails."""
_INTEGER = re.compile(r"[0-9]{1,15}", re.ASCII)


def sf_integer(value: str | None) -> int | None:
    """A non-negative Structured Field integer (parameters ignored); None when absent or malformed."""
    if value is None:
        return None
    item = value.partition(";")[0].strip(" \t")
    return int(item) if _INTEGER.fullmatch(item) else None


def sf_boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    return {"?1": True, "?0": False}.get(value.partition(";")[0].strip(" \t"))


def parse_limit(value: str | None) -> dict[str, int]:
    """`Upload-Limit` (a Structured Field Dictionary): its integer members (max-size, max-age, ...)."""
    limits: dict[str, int] = {}
    for member in (value or "").split(","):
        name, _, item = member.partition("=")
        number = sf_integer(item) if item else None
        if name.strip() and number is not None:
            limits[name.strip().lower()] = number
    return limits


def parse_headers(raw: str) -> dict[str, str]:
    """XMLHttpRequest.getAllResponseHeaders() as a dict of lowercase names (a repeated field joined by ", ")."""
    headers: dict[str, str] = {}
    for line in raw.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return headers


@dataclass(frozen=True)
class Support:
    """What `OPTIONS /upload` said: resumable uploads, and their largest size when told."""

    resumable: bool
    max_size: int | None = None


def parse_options(status: int, headers: Mapping[str, str]) -> Support:
    """A server supports resumable uploads when OPTIONS /upload accepts `application/partial-upload` patches."""
    if not 200 <= status < 300:
        return Support(False)
    accepted = [item.split(";")[0].strip().lower() for item in headers.get("accept-patch", "").split(",")]
    if PARTIAL_UPLOAD not in accepted:
        return Support(False)
    return Support(True, parse_limit(headers.get("upload-limit")).get("max-size"))


def wants_resumable(support: Support, size: int) -> bool:
    return support.resumable and size > MIN_RESUMABLE


@dataclass
class Session:
    """An upload under way, as kept in IndexedDB so that a reload continues it: where (server, location), what
    (sha256, size, type, name), from which kept file (`info_hash`: the copy kept for seeding, the source after a
    reload; "" when there is none) and until when the server keeps it (`expires`, 0 when it did not say)."""

    server: str
    location: str
    sha256: str
    size: int
    type: str = ""
    name: str = ""
    info_hash: str = ""
    created: int = 0
    expires: int = 0

    @property
    def key(self) -> str:
        return session_key(self.server, self.sha256)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: object) -> Session | None:
        """A stored session, or None when it is not one (another version's, damaged): it is dropped then."""
        if not isinstance(value, dict):
            return None
        try:
            session = cls(
                server=str(value["server"]),
                location=str(value["location"]),
                sha256=str(value["sha256"]),
                size=int(value["size"]),
                type=str(value.get("type", "")),
                name=str(value.get("name", "")),
                info_hash=str(value.get("info_hash", "")),
                created=int(value.get("created", 0)),
                expires=int(value.get("expires", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return None
        ok = is_hex64(session.sha256) and session.size > 0 and is_http_url(session.location)
        return session if ok else None

    def stale(self, now: float) -> bool:
        """The server said it would forget this upload by now: no use asking, start over."""
        return 0 < self.expires <= now


def session_key(server: str, sha256: str) -> str:
    return f"{server.rstrip('/')} {sha256}"


# --- the state machine ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    """`PUT /upload`, empty body, `Upload-Complete: ?0`, `Upload-Length`, `X-SHA-256`."""


@dataclass(frozen=True)
class Head:
    """`HEAD <location>` after `delay` seconds: the offset to continue from."""

    delay: float = 0.0


@dataclass(frozen=True)
class Patch:
    """`PATCH <location>` with the file's bytes [start, end), `Upload-Offset: start`, `Upload-Complete: ?1` when
    `last`."""

    start: int
    end: int
    last: bool


@dataclass(frozen=True)
class Done:
    """The upload is the blob: the BUD-02 descriptor's JSON text (checked against the sha256 by asknostr.blossom)."""

    body: str


@dataclass(frozen=True)
class Stored:
    """The upload finished before (its answer was lost): the blob is on the server, at `<server>/<sha256>`."""


@dataclass(frozen=True)
class FallBack:
    """Resumable did not work out before any byte went: a plain PUT instead."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """The upload cannot be made on this server (refused, or unreachable too long); `refused` when the server said
    no (another try would get the same answer), else it was the network."""

    reason: str
    refused: bool


Step = Create | Head | Patch | Done | Stored | FallBack | Failed


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (lowercase names), body text."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""

    def reason(self) -> str:
        return self.headers.get("x-reason", "") or self.body[:160].strip() or "no reason given"


@dataclass
class Upload:
    """One upload of `size` bytes: what to send next, from the answers so far. Started from a stored `session`
    (after a reload) it asks the offset first; otherwise it creates the upload.

    `offset` is what the server acknowledged: the progress to show, and where the next PATCH starts."""

    size: int
    session: Session | None = None
    chunk: int = CHUNK
    offset: int = 0
    failures: int = 0
    restarts: int = 0
    sent: int = 0
    """Bytes put into PATCH bodies, whole or cut off: what the network carried (tests, benches)."""
    _next: Step = field(default_factory=Create)
    _created: bool = False

    def __post_init__(self) -> None:
        if self.session is not None:
            self._next, self._created = Head(), True

    def next_step(self) -> Step:
        return self._next

    def location(self) -> str:
        return self.session.location if self.session else ""

    def _patch(self) -> Patch:
        end = min(self.size, self.offset + self.chunk)
        return Patch(self.offset, end, end == self.size)

    def _retry(self, reason: str) -> Step:
        """A failure that may pass (network, server error, stall): ask the offset again after a while."""
        if self.failures >= len(RETRY_DELAYS):
            return Failed(f"{reason} ({self.failures} tries)", refused=False)
        delay = RETRY_DELAYS[self.failures]
        self.failures += 1
        return Head(delay)

    def _start_over(self, reason: str) -> Step:
        """The server forgot the upload (finished elsewhere, expired, cancelled, its bytes lost): a new one."""
        if self.restarts >= MAX_RESTARTS:
            return Failed(f"the server lost the upload ({reason})", refused=False)
        self.restarts += 1
        self.session, self.offset, self._created = None, 0, False
        return Create()

    def created(self, session: Session) -> None:
        """The adapter made the session from a Create's answer (its Location, expiry): keep it."""
        self.session = session

    def answer(self, step: Step, answer: Answer | None, error: str = "") -> Step:
        """The server's `answer` to `step` (None: no answer, `error` says why); the next step."""
        if isinstance(step, Patch):
            self.sent += step.end - step.start
        self._next = self._decide(step, answer, error)
        return self._next

    def _decide(self, step: Step, answer: Answer | None, error: str) -> Step:
        if answer is None:
            if isinstance(step, Create):
                return FallBack(f"no answer to the resumable upload's creation ({error})")
            return self._retry(error or "no answer")
        status = answer.status
        if isinstance(step, Create):
            return self._after_create(answer)
        if status in (404, 410):
            return self._start_over(f"HTTP {status}")
        if status >= 500 or status == 429 or status == 408:
            return self._retry(f"HTTP {status}: {answer.reason()}")
        if isinstance(step, Head):
            return self._after_head(answer)
        if isinstance(step, Patch):
            return self._after_patch(step, answer)
        return Failed(f"unexpected step {step}", refused=True)  # pragma: no cover: the others are never sent

    def _after_create(self, answer: Answer) -> Step:
        status, headers = answer.status, answer.headers
        if status == 413:
            return Failed(f"HTTP 413: {answer.reason()}", refused=True)  # too large, plain or resumable
        if status in (401, 403):
            return Failed(f"HTTP {status}: {answer.reason()}", refused=True)
        if not 200 <= status < 300 or not is_http_url(headers.get("location", "")):
            # 429 (too many open uploads), 400/405/501 (a server that only says it speaks the draft): the bytes in
            # one PUT, as for any other server
            return FallBack(f"HTTP {status}: {answer.reason()}")
        self._created = True
        self.offset = sf_integer(headers.get("upload-offset")) or 0
        return self._patch()

    def _after_head(self, answer: Answer) -> Step:
        status, headers = answer.status, answer.headers
        if not 200 <= status < 300:
            return Failed(f"HTTP {status}: {answer.reason()}", refused=True)  # 401/403: not ours, or auth refused
        offset = sf_integer(headers.get("upload-offset"))
        if offset is None or offset > self.size:
            return self._retry("no usable Upload-Offset")
        if sf_boolean(headers.get("upload-complete")):
            self.offset = self.size
            return Stored()  # finished, its answer lost (a reload as it came): HEAD repeats no descriptor
        length = sf_integer(headers.get("upload-length"))
        if length is not None and length != self.size:
            return Failed(f"the server's upload is {length} bytes, the file {self.size}", refused=True)
        if offset > self.offset:
            self.failures = 0  # progress since the last failure
        self.offset = offset
        return self._patch()

    def _after_patch(self, step: Patch, answer: Answer) -> Step:
        status, headers = answer.status, answer.headers
        if status == 409:
            offset = sf_integer(headers.get("upload-offset"))
            if offset is None or offset > self.size:
                return self._retry("HTTP 409 without a usable offset")
            self.offset = offset
            return self._patch()
        if status == 422:
            # the bytes' sha256 is not the file's: the file changed since it was hashed (the server deleted it)
            return Failed(f"HTTP 422: {answer.reason()}", refused=True)
        if not 200 <= status < 300:
            # 400 (cut off mid-chunk, length disagreement): the offset tells what the server kept
            return self._retry(f"HTTP {status}: {answer.reason()}")
        if step.last and (status in (200, 201) or sf_boolean(headers.get("upload-complete"))):
            self.offset = self.size
            return Done(answer.body)
        offset = sf_integer(headers.get("upload-offset"))
        if offset is None or offset > self.size:
            return Head()
        self.failures = 0
        self.offset = offset
        return self._patch()
