"""Hearth's own neutral format: a JSON data set of conversations between people."""

from __future__ import annotations

from collections.abc import Sequence

from agent.importing.conversations import dataset_from, load_dataset
from agent.importing.files import ExportFile
from agent.importing.records import Dataset
from memory.errors import DatasetError


class Neutral:
    """`{"name", "conversations": [{"id", "speakers", "user", "sessions": [...]}]}`."""

    name = "neutral"
    remembers = True

    def detect(self, files: Sequence[ExportFile]) -> bool:
        if len(files) != 1 or not files[0].name.endswith(".json"):
            return False
        head = files[0].peek().lstrip()
        return head.startswith(b"{") and b'"conversations"' in files[0].data

    def read(self, files: Sequence[ExportFile]) -> Dataset:
        if len(files) != 1:
            raise DatasetError("the neutral format is one JSON file; name that file")
        file = files[0]
        if file.on_disk is not None:
            return load_dataset(file.on_disk)
        return dataset_from(file.json, file.label)


FORMAT = Neutral()
