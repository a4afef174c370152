"""The text of an error an adapter caught: a JavaScript error (pyodide's JsException) says it in its `message`;
a Python exception in its str()."""

from __future__ import annotations


def error_text(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)
