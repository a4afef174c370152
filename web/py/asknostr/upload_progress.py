"""What the composer shows for each file while it is posted: the step, the progress, and which server took it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

HASHING, SEEDING, UPLOADING, UPLOADED, FAILED = "hashing", "seeding", "uploading", "uploaded", "failed"
POSTER = "poster"  # a video's poster is being made (a frame of it, in the browser)


@dataclass(frozen=True)
class FileProgress:
    name: str
    size: int
    step: str = HASHING
    server: str = ""
    sent: int = 0
    failures: tuple[str, ...] = field(default=())
    """`server: reason` for every server that did not take the file, in order."""

    def uploading(self, server: str) -> FileProgress:
        return replace(self, step=UPLOADING, server=server, sent=0)

    def sent_bytes(self, sent: int) -> FileProgress:
        return replace(self, sent=min(sent, self.size))

    def failed_on(self, server: str, reason: str) -> FileProgress:
        return replace(self, failures=(*self.failures, f"{server}: {reason}"))

    def uploaded(self) -> FileProgress:
        return replace(self, step=UPLOADED, sent=self.size)

    def given_up(self) -> FileProgress:
        return replace(self, step=FAILED)

    @property
    def percent(self) -> int:
        return 100 if self.size == 0 else int(100 * self.sent / self.size)

    def line(self) -> str:
        """One line for the UI."""
        if self.step == HASHING:
            return f"{self.name}: hashing · {self.percent}%"
        if self.step == POSTER:
            return f"{self.name}: making a poster…"
        if self.step == SEEDING:
            return f"{self.name}: preparing to share…"
        if self.step == UPLOADING:
            retry = f" (after {len(self.failures)} failed)" if self.failures else ""
            return f"{self.name}: uploading to {self.server}{retry} · {self.percent}%"
        if self.step == UPLOADED:
            return f"{self.name}: stored on {self.server}"
        return f"{self.name}: no server took it ({'; '.join(self.failures) or 'no server'})"
