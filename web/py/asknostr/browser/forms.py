"""How every panel handles its forms and buttons: the page's default action stopped at once, what the user
submitted read at that moment, the handler run in the background, and its outcome said in the form's result line
(an error in red, never a frozen "…")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pyscript import document
from pyscript.ffi import create_proxy

from asknostr.browser import dom
from asknostr.browser.background import Background
from asknostr.browser.errors import error_text

Handler = Callable[[Any, dict[str, str]], Awaitable[None]]


class Unchanged(Exception):
    """An edit that would change nothing (already following…): said to the user, nothing published."""


class Forms:
    def __init__(self) -> None:
        self._proxies: list[Any] = []  # kept alive as long as the page: the listeners call into them
        self.tasks = Background("forms")

    def on(self, element_id: str, event_name: str, handler: Handler, *, keep_default: bool = False) -> None:
        """Run `handler(event, form)` on each `event_name` of the element; `form` holds every input's value.
        The browser's own action is stopped unless `keep_default` (a list whose links must still open)."""

        def listener(event: Any) -> None:
            if not keep_default:
                event.preventDefault()  # synchronously, or the form submits and the page reloads
            # what the user submitted, read now: by the time the handler runs they may be typing the next one
            form = {str(node.id): str(node.value) for node in document.querySelectorAll("input[id], textarea[id]")}
            self.tasks.spawn(handler(event, form))

        proxy = create_proxy(listener)
        self._proxies.append(proxy)
        dom.by_id(element_id).addEventListener(event_name, proxy)

    def on_nodes(self, selector: str, event_name: str, listener: Callable[[Any], None]) -> None:
        """A plain listener (no default stopped, nothing read) on every node matching `selector`."""
        proxy = create_proxy(listener)
        self._proxies.append(proxy)
        for node in document.querySelectorAll(selector):
            node.addEventListener(event_name, proxy)

    @staticmethod
    async def guarded(result_id: str, action: Callable[[], Awaitable[str]]) -> None:
        """Run `action` and show what it returns, or its error, in the result line `result_id`."""
        dom.set_text(result_id, "…")
        try:
            dom.set_text(result_id, await action())
        except Unchanged as exc:
            dom.set_text(result_id, str(exc))
        except ValueError as exc:
            dom.set_text(result_id, str(exc), error=True)
        except Exception as exc:  # a JS error (signer refused, storage full…): said, never a frozen "…"
            dom.set_text(result_id, f"failed: {error_text(exc)}", error=True)
