"""The Bridge's one error: `BridgeError(status, reason)`, and the one middleware that answers it.

Every refusal on every route has one shape: a JSON body `{"error": reason}` and the same reason in `X-Reason`
(Blossom, BUD-01). Handlers and the modules they call raise `BridgeError`; aiohttp's own refusals (404, 405, 413…)
are reshaped the same way; anything else is a bug, logged with its traceback and answered 500 in the same shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)


class BridgeError(Exception):
    """A request the Bridge refuses: the HTTP status, a reason a person can read, and extra headers."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        return self.reason


def error_response(status: int, reason: str, headers: Mapping[str, str] | None = None) -> web.Response:
    # a reason may quote the client's input: control characters cannot go in a header (aiohttp drops the connection)
    reason = "".join(c if c.isprintable() else "\ufffd" for c in reason)[:1000]
    return web.json_response({"error": reason}, status=status, headers={**(headers or {}), "X-Reason": reason})


def parse_json(data: str | bytes, what: str) -> object:
    """JSON from a client; BridgeError(400) when it is not JSON or nests deeper than Python's parser goes."""
    try:
        return json.loads(data)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BridgeError(400, f"{what} is not JSON") from None
    except RecursionError:
        raise BridgeError(400, f"{what} is nested too deeply") from None


_KEPT_HEADERS = ("Allow", "Retry-After", "Content-Range", "Location")


@web.middleware
async def bridge_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BridgeError as exc:
        return error_response(exc.status, exc.reason, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like are answers, not errors
            raise
        headers = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
        return error_response(exc.status, exc.reason, headers)
    except Exception:
        log.exception("%s %s failed", request.method, request.path[:200])
        return error_response(500, "internal error: the Bridge's log has the details")
