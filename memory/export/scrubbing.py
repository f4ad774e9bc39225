"""A forget reaching the exports: files in exports/ rewritten, the ones elsewhere listed."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memory.export.writer import parquet_bytes, private_file
from memory.graph import forget_exports
from memory.graph.forget_exports import ExportScan, OutsideExport
from memory.journal.journal import Journal
from memory.journal.signals import ExportRecord

# The keys whose strings are words in every export format (`messages`/`prompt`/`completion`/
# `chosen`/`rejected` entries' `content`, ShareGPT's `value`); roles, `from`, weights and labels
# are structure and stay as written.
TEXT_KEYS = frozenset({"content", "value"})

log = logging.getLogger(__name__)


def redact_value(value: Any, pattern: re.Pattern[str], marker: str, *, text: bool = False) -> Any:
    """A row with the pattern replaced in the strings under TEXT_KEYS, and nowhere else."""
    if isinstance(value, str):
        return pattern.sub(marker, value) if text else value
    if isinstance(value, list):
        return [redact_value(v, pattern, marker, text=text) for v in value]
    if isinstance(value, dict):
        return {
            k: redact_value(v, pattern, marker, text=text or k in TEXT_KEYS)
            for k, v in value.items()
        }
    return value


def export_files(exports_dir: Path) -> list[Path]:
    """The exports and cards under exports/ (temporary files of a running export left out)."""
    if not exports_dir.is_dir():
        return []
    wanted = ("*.jsonl", "*.parquet", "*.card.md")
    found = {p for glob in wanted for p in exports_dir.rglob(glob) if p.is_file()}
    return sorted(p for p in found if not p.name.startswith("."))


def scan(exports_dir: Path, ledger: Sequence[ExportRecord], pattern: re.Pattern[str]) -> ExportScan:
    """What a forget of this pattern would rewrite in exports/ and leave elsewhere."""
    inside = [str(p) for p in export_files(exports_dir) if _holds(p, pattern)]
    return ExportScan(inside=inside, elsewhere=elsewhere(exports_dir, ledger, pattern))


def elsewhere(
    exports_dir: Path, ledger: Sequence[ExportRecord], pattern: re.Pattern[str] | None
) -> list[OutsideExport]:
    """The ledger's exports outside exports/, each once, with whether it holds the pattern."""
    root = exports_dir.resolve()
    listed: list[OutsideExport] = []
    for path in dict.fromkeys(Path(r.path) for r in ledger):
        if path.resolve().is_relative_to(root):
            continue
        exists = path.is_file()
        holds = _holds(path, pattern) if exists and pattern is not None else None
        listed.append(OutsideExport(path=str(path), exists=exists, holds_phrase=holds))
    return listed


def _holds(path: Path, pattern: re.Pattern[str]) -> bool | None:
    try:
        if path.suffix == ".parquet":
            return any(pattern.search(s) for s in _strings(_read_parquet(path)[0]))
        text = path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    if path.suffix == ".jsonl":
        return any(pattern.search(s) for s in _strings(_jsonl_rows(text)))
    return pattern.search(text) is not None


def redact_exports(
    exports_dir: Path, ledger: Sequence[ExportRecord], pattern: re.Pattern[str], marker: str
) -> tuple[dict[str, int], dict[int, str]]:
    """Rewrite each export file under exports/ holding the pattern (atomically, 0600): counts,
    and the ledger ids whose files changed with their new sha256 (cards say the new one too)."""
    counts = {"files_redacted": 0, "rows_redacted": 0, "files_unreadable": 0}
    by_path = {Path(r.path).resolve(): r.id for r in ledger}
    new_sha: dict[int, str] = {}
    renamed: dict[str, str] = {}
    for path in export_files(exports_dir):
        if path.name.endswith(".card.md"):
            continue  # after its export: the card names the export's new checksum
        try:
            rows = _redact_file(path, pattern, marker)
        except Exception as exc:  # pyarrow's errors and json's alike: a damaged file
            # Counted and logged, never skipped in silence: this file was not redacted.
            log.warning("could not redact %s: %s", path, exc)
            counts["files_unreadable"] += 1
            continue
        if rows is None:
            continue
        data, changed = rows
        old = hashlib.sha256(path.read_bytes()).hexdigest()
        with private_file(path) as fh:
            fh.write(data)
        sha = hashlib.sha256(data).hexdigest()
        renamed[old] = sha
        if (export_id := by_path.get(path.resolve())) is not None:
            new_sha[export_id] = sha
        counts["files_redacted"] += 1
        counts["rows_redacted"] += changed
    for path in export_files(exports_dir):
        if path.name.endswith(".card.md"):
            text = path.read_text(encoding="utf-8")
            new = pattern.sub(marker, text)
            for old, sha in renamed.items():
                new = new.replace(old, sha)
            if new != text:
                with private_file(path) as fh:
                    fh.write(new.encode())
                counts["files_redacted"] += 1
    return counts, new_sha


def _redact_file(path: Path, pattern: re.Pattern[str], marker: str) -> tuple[bytes, int] | None:
    """The file's new bytes and how many rows changed; None when nothing would."""
    if path.suffix == ".parquet":
        records, schema = _read_parquet(path)
        redacted = [redact_value(r, pattern, marker) for r in records]
        changed = sum(a != b for a, b in zip(records, redacted, strict=True))
        return (parquet_bytes(redacted, schema), changed) if changed else None
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out: list[str] = []
    changed = 0
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            # Not a row Hearth wrote (a hand edit): the words go all the same.
            new = pattern.sub(marker, line)
        else:
            redacted = redact_value(row, pattern, marker)
            new = line if redacted == row else json.dumps(redacted, ensure_ascii=False) + "\n"
        changed += new != line
        out.append(new)
    return ("".join(out).encode(), changed) if changed else None


def _read_parquet(path: Path) -> tuple[list[dict[str, Any]], Any]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    table = pq.read_table(io.BytesIO(path.read_bytes()))
    return table.to_pylist(), table.schema


def _jsonl_rows(text: str) -> list[Any]:
    rows: list[Any] = []
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            rows.append({"content": line})  # a hand-edited line: all of it is words
    return rows


def _strings(value: Any, *, text: bool = False) -> list[str]:
    """Every string under TEXT_KEYS in a row (or rows)."""
    if isinstance(value, str):
        return [value] if text else []
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, text=text)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, text=text or k in TEXT_KEYS)]
    return []


class _Exports:
    """What a forget asks of the exports (memory.graph.forget_exports), answered here."""

    def scan(
        self, exports_dir: Path, journal: Journal | None, pattern: re.Pattern[str]
    ) -> ExportScan:
        return scan(exports_dir, journal.exports() if journal is not None else [], pattern)

    def redact(
        self, exports_dir: Path, journal: Journal | None, pattern: re.Pattern[str], marker: str
    ) -> tuple[dict[str, int], list[OutsideExport]]:
        ledger = journal.exports() if journal is not None else []
        counts, new_sha = redact_exports(exports_dir, ledger, pattern, marker)
        if journal is not None:
            for export_id, sha in new_sha.items():
                journal.set_export_sha256(export_id, sha)
        return counts, elsewhere(exports_dir, ledger, pattern)


# The exports learn of a forget this way round: the graph never imports them.
forget_exports.register(_Exports())
