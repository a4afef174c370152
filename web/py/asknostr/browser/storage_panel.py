"""Your part in the swarm: Settings > Storage (the quota and the size up to which files are kept automatically)
and the health panel (files seeded, space used, bytes given to others since the first visit)."""

from __future__ import annotations

from typing import Any

from pyscript import window

from asknostr.browser import dom, storage, torrents
from asknostr.browser.errors import error_text
from asknostr.browser.forms import Forms
from asknostr.browser.settings_store import SettingsStore
from asknostr.upload_tally import UploadTally

UPLOADED_KEY = "uploaded-total"  # bytes given to the swarm by earlier pages (asknostr.upload_tally)


class StoragePanel:
    def __init__(self, settings: SettingsStore, forms: Forms) -> None:
        self.settings, self.forms = settings, forms
        self._uploads: UploadTally | None = None  # read from IndexedDB at the first look at the swarm
        forms.on("storage-form", "submit", self.on_save)

    def show_settings(self) -> None:
        dom.by_id("quota-input").value = str(round(self.settings.current.quota_bytes / 1e6))
        dom.by_id("cap-input").value = str(round(self.settings.current.auto_seed_cap / 1e6))

    async def on_save(self, _event: Any, form: dict[str, str]) -> None:
        async def save() -> str:
            await self.settings.save(self.settings.current.with_storage(form["quota-input"], form["cap-input"]))
            quota, cap = self.settings.current.quota_bytes / 1e6, self.settings.current.auto_seed_cap / 1e6
            return f"saved: {quota:.0f} MB, files up to {cap:.0f} MB shared automatically"

        await self.forms.guarded("storage-result", save)

    async def refresh(self) -> None:
        """Look at the swarm once and show it; a failed look is logged, the next one may do."""
        try:
            await self._render()
        except Exception as exc:
            window.console.warn(f"swarm health not shown: {error_text(exc)}")

    async def _render(self) -> None:
        items = await torrents.seeding()
        kept = sum(k.size for k in await torrents.kept())
        if self._uploads is None:
            stored = await storage.get_json(UPLOADED_KEY)
            self._uploads = UploadTally(before=stored if isinstance(stored, int) and stored > 0 else 0)
        tally = self._uploads.update({str(t["infoHash"]): int(t.get("uploaded", 0)) for t in items})
        if tally.total != self._uploads.total:
            await storage.set_json(UPLOADED_KEY, tally.total)
        self._uploads = tally
        seeding = sum(1 for t in items if t.get("done"))
        quota = self.settings.current.quota_bytes
        dom.set_text(
            "swarm-health",
            f"Seeding {seeding} · {kept / 1e6:.1f} of {quota / 1e6:.0f} MB · uploaded {tally.total / 1e6:.1f} MB",
        )
        bar = dom.by_id("swarm-quota")
        bar.value = min(kept, quota)
        bar.max = quota
