"""The import formats `hearth import` knows, one module each: a new format is one module here
and one line in `FORMATS`."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Protocol

from agent.importing.files import ExportFile
from agent.importing.records import Dataset
from agent.importing.threads import Thread
from memory.errors import DatasetError


class ImportFormat(Protocol):
    """One app's export: how to recognise its files and read them."""

    name: str
    remembers: bool
    """Whether the person's messages are remembered unless `--journal-only` (SillyTavern's
    role-play is journaled only, unless `--remember`)."""

    def detect(self, files: Sequence[ExportFile]) -> bool:
        """Whether these files are an export of this format (cheap: names and first bytes)."""
        ...

    def read(self, files: Sequence[ExportFile]) -> list[Thread] | Dataset:
        """Every conversation, checked: broken structure is a DatasetError naming the file,
        the record and the field, raised before anything is written."""
        ...


FORMATS = ("neutral", "chatgpt", "claude", "sillytavern", "openwebui", "llm")
"""The registry: each name is a module here whose `FORMAT` reads that format, in the order
`--format` lists them and auto-detection tries them."""


def _formats() -> dict[str, ImportFormat]:
    found: dict[str, ImportFormat] = {}
    for name in FORMATS:
        module = importlib.import_module(f"{__name__}.{name}")
        found[name] = module.FORMAT
    return found


def get(name: str) -> ImportFormat:
    formats = _formats()
    if name not in formats:
        raise DatasetError(f"unknown format {name!r}; known: {', '.join(formats)}")
    return formats[name]


def detect(files: Sequence[ExportFile]) -> ImportFormat:
    """The one format these files are in; a DatasetError when none or several fit."""
    if not files:
        raise DatasetError("no files to import there")
    fits = [f for f in _formats().values() if f.detect(files)]
    if len(fits) == 1:
        return fits[0]
    if not fits and len(files) == 1 and files[0].basename.endswith(".json"):
        # One JSON file nothing else claims: the neutral format, which says what is wrong.
        return _formats()["neutral"]
    names = ", ".join(f.name for f in fits) if fits else "none of them"
    first = files[0].label if len(files) == 1 else f"{len(files)} files"
    raise DatasetError(
        f"cannot tell the format of {first} ({names} fit); name it with --format "
        f"({', '.join(FORMATS)})"
    )
