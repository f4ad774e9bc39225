"""Importing chromadb (the slowest import Hearth has) once, with its override checks skipped."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()


def _marked(method: Any = None, **_checks: Any) -> Any:
    """`overrides.override` without its checks: the method is marked as an override (what
    `EnforceOverrides` classes look for) and returned as it is."""
    if method is None:
        return _marked
    method.__override__ = True
    return method


def chromadb() -> ModuleType:
    """The chromadb package. chromadb decorates ~160 methods with the `overrides` package's
    `@override`, which reads each class body's bytecode and compares signatures as the class
    is made: checks of chromadb's own code, a third of its import (~0.2 s of a cold `hearth
    say`). They cannot fail for a released chromadb, so its classes are made without them:
    `overrides.override` is swapped for a decorator that only marks the method, before
    chromadb first imports it (nothing else here uses the `overrides` package)."""
    with _lock:
        import overrides

        if overrides.override is not _marked:
            overrides.override = overrides.overrides = _marked
        import chromadb as module

    return module
