"""An export's files, wherever they are: a .zip, the folder it unpacks to, or the files named."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from agent.importing.threads import REFUSED
from memory.errors import DatasetError


class ExportFile:
    """One file of an export, read once and only when a format asks for it."""

    def __init__(self, name: str, label: str, path: Path | None, archive: Path | None = None):
        self.name = name
        """Its path inside the export (the file's own name when given alone)."""
        self.label = label
        """How messages name it: the file, or the .zip and the file inside it."""
        self._path = path
        self._archive = archive

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name

    @cached_property
    def data(self) -> bytes:
        try:
            if self._archive is not None:
                with zipfile.ZipFile(self._archive) as archive:
                    return archive.read(self.name)
            assert self._path is not None
            return self._path.read_bytes()
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise DatasetError(f"cannot read {self.label}: {exc}") from exc

    @cached_property
    def text(self) -> str:
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{self.label} is not UTF-8 text: {exc}{REFUSED}") from exc

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{self.label} is not JSON: {exc}{REFUSED}") from exc

    def peek(self, size: int = 4096) -> bytes:
        """The file's first bytes, to tell formats apart without reading it all (an export's
        folder or .zip holds images and other large files no format reads)."""
        if "data" in self.__dict__:
            return self.data[:size]
        try:
            if self._archive is not None:
                with zipfile.ZipFile(self._archive) as archive, archive.open(self.name) as f:
                    return f.read(size)
            assert self._path is not None
            with self._path.open("rb") as f:
                return f.read(size)
        except (OSError, zipfile.BadZipFile, KeyError):
            return b""

    @property
    def on_disk(self) -> Path | None:
        """The file itself, when it is not inside a .zip."""
        return self._path if self._archive is None else None

    def local(self) -> Path:
        """A path on disk holding the file (a copy for one inside a .zip): SQLite needs one."""
        if self._path is not None and self._archive is None:
            return self._path
        with tempfile.NamedTemporaryFile(prefix="hearth-import-", suffix=".db", delete=False) as f:
            f.write(self.data)
        return Path(f.name)


def export_files(paths: Sequence[Path]) -> list[ExportFile]:
    """Every file the paths hold: a .zip's members, a folder's files (hidden ones left out),
    or the files themselves."""
    found: list[ExportFile] = []
    for path in paths:
        if not path.exists():
            raise DatasetError(f"{path} does not exist")
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                inside = file.relative_to(path)
                if file.is_file() and not any(p.startswith(".") for p in inside.parts):
                    found.append(ExportFile(inside.as_posix(), str(file), file))
        elif zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as archive:
                    names = [i.filename for i in archive.infolist() if not i.is_dir()]
            except (OSError, zipfile.BadZipFile) as exc:
                raise DatasetError(f"cannot read {path}: {exc}") from exc
            for name in sorted(names):
                if not any(p.startswith((".", "__MACOSX")) for p in PurePosixPath(name).parts):
                    found.append(ExportFile(name, f"{path}:{name}", None, archive=path))
        else:
            found.append(ExportFile(path.name, str(path), path))
    return found
