"""`hearth export`: rows from the journal, redacted if asked, written 0600, ledgered, carded."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from memory.errors import ExportError, StorageError
from memory.export.candidates import SCORE_COLUMNS, score_columns
from memory.export.card import card_path, render_card
from memory.export.kinds import REGISTRY, ExportKind
from memory.export.redaction import Redactor
from memory.export.rows import CandidateCount, ExportFilters, Row, build_rows
from memory.export.sensitive import leave_out_sensitive
from memory.journal.journal import Journal
from memory.journal.signals import FileFormat

# (stage, done, total): stages are "reading", "redacting", "writing".
Progress = Callable[[str, int, int], None]


class ExportOptions(ExportFilters):
    """One `hearth export` invocation: the filters, plus where and how to write."""

    kind: ExportKind
    file_format: FileFormat = "jsonl"
    out: Path
    redact: bool = False
    include_sensitive: bool = False
    """Keep rows about health, feelings or private matters (left out by default)."""
    command: str = ""


class ExportResult(BaseModel):
    """What an export wrote; `path` is None when nothing matched and nothing was written."""

    kind: ExportKind
    file_format: FileFormat
    rows: int
    path: Path | None = None
    card: Path | None = None
    export_id: int | None = None
    sha256: str | None = None
    signals: dict[str, int] = Field(default_factory=dict)
    redacted: dict[str, int] | None = None
    sensitive_left_out: int = 0
    """Rows left out as sensitive (none when `include_sensitive`)."""
    candidates: CandidateCount | None = None
    """With `candidates`: the replies weighed, the candidates among them, the unscored."""
    synthetic: int = 0
    """Rows of dreams (only with `include_synthetic`: accepted and edited ones)."""


def default_export_path(
    exports_dir: Path, kind: ExportKind, file_format: FileFormat, frozen: bool
) -> Path:
    """A fresh file name under the data dir's exports/, e.g. sft-frozen-20260101-120000.jsonl."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    stem = f"{kind}{'-frozen' if frozen else ''}-{stamp}"
    path = exports_dir / f"{stem}.{file_format}"
    n = 2
    while path.exists() or card_path(path).exists():
        path = exports_dir / f"{stem}-{n}.{file_format}"
        n += 1
    return path


def run_export(
    journal: Journal,
    options: ExportOptions,
    progress: Progress | None = None,
    sensitive_sources: Collection[int] = frozenset(),
) -> ExportResult:
    """Select, leave out sensitive rows (unless asked for), redact, write, ledger, card; an
    empty selection writes nothing. `sensitive_sources`: the journal messages that sensitive
    memories came from."""
    out = options.out
    if out.exists() or card_path(out).exists():
        raise ExportError(f"{out} (or its card) already exists; choose another --out or remove it")
    rows, candidates = build_rows(
        journal,
        options.kind,
        options,
        None if progress is None else (lambda d, t: progress("reading", d, t)),
    )
    left_out = 0
    if not options.include_sensitive:
        rows, left_out = leave_out_sensitive(rows, sensitive_sources)
    result = ExportResult(
        kind=options.kind,
        file_format=options.file_format,
        rows=len(rows),
        sensitive_left_out=left_out,
        candidates=candidates,
        synthetic=sum(1 for r in rows if r.synthetic),
    )
    if not rows:
        return result
    redaction = _redact(rows, progress) if options.redact else None
    try:
        out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"cannot create {out.parent}: {exc.strerror}") from exc
    scored = REGISTRY[options.kind].scored
    marked = scored and options.include_synthetic
    brought = scored and options.include_imported
    sha = _write(
        out, rows, options.file_format, progress, scored=scored, synthetic=marked, imported=brought
    )
    try:
        record = journal.record_export(
            kind=options.kind,
            file_format=options.file_format,
            path=out.resolve(),
            sha256=sha,
            rows=len(rows),
            command=options.command,
            trained_ids={i for r in rows for i in r.trained_ids},
            context_ids={i for r in rows for i in r.context_ids},
        )
    except BaseException:
        # An export the ledger does not know about could never be found by `forget`.
        out.unlink(missing_ok=True)
        raise
    card = card_path(out)
    text = render_card(
        export_id=record.id,
        kind=options.kind,
        file_format=options.file_format,
        path=out,
        sha256=sha,
        rows=rows,
        filters=options,
        min_rating=_min_rating(options),
        redaction=redaction,
        sensitive_left_out=None if options.include_sensitive else left_out,
        command=options.command,
        created_at=record.created_at,
        candidates=candidates,
    )
    with private_file(card) as fh:
        fh.write(text.encode())
    return result.model_copy(
        update={
            "path": out,
            "card": card,
            "export_id": record.id,
            "sha256": sha,
            "signals": dict(Counter(r.signal for r in rows)),
            "redacted": dict(redaction) if redaction is not None else None,
        }
    )


def _min_rating(options: ExportOptions) -> int:
    if options.min_rating is not None:
        return options.min_rating
    return -1 if options.kind == "kto" else 0


def _redact(rows: list[Row], progress: Progress | None) -> Counter[str]:
    """Redact every row in place; any failure stops the export before a byte is written."""
    try:
        redactor = Redactor()
        for done, row in enumerate(rows, start=1):
            row.data = redactor.value(row.data)
            if progress is not None:
                progress("redacting", done, len(rows))
    except Exception as exc:
        raise ExportError(f"redaction failed, nothing was written: {exc}") from exc
    return redactor.counts


@contextlib.contextmanager
def private_file(path: Path) -> Iterator[IO[bytes]]:
    """A new file, 0600 whatever the umask, written whole or not at all."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageError(f"cannot write {path}: {exc.strerror}; nothing was saved") from exc
        raise


def _write(
    out: Path,
    rows: list[Row],
    file_format: FileFormat,
    progress: Progress | None,
    *,
    scored: bool,
    synthetic: bool = False,
    imported: bool = False,
) -> str:
    """Write the rows, with their score columns when `scored` and a `synthetic` column when
    the export may hold dreams (`synthetic`); returns the file's sha256."""
    digest = hashlib.sha256()
    with private_file(out) as fh:
        if file_format == "jsonl":
            for done, row in enumerate(rows, start=1):
                line = (
                    json.dumps(_record(row, scored, synthetic, imported), ensure_ascii=False) + "\n"
                ).encode()
                digest.update(line)
                fh.write(line)
                if progress is not None:
                    progress("writing", done, len(rows))
        else:
            columns = SCORE_COLUMNS if scored else ()
            data = parquet_bytes(
                [_record(r, scored, synthetic, imported) for r in rows], float_columns=columns
            )
            digest.update(data)
            fh.write(data)
            if progress is not None:
                progress("writing", len(rows), len(rows))
    return digest.hexdigest()


def _record(
    row: Row, scored: bool, synthetic: bool = False, imported: bool = False
) -> dict[str, Any]:
    """A row as written: its data, then its score columns (the same keys on every row), then
    whether it is made up when the export may hold dreams. The `openai` kind is uploaded as it
    is to a service that validates its keys: `messages` only (its candidates are told by the
    assistant messages' `weight`; its card counts the dreams)."""
    if not scored:
        return dict(row.data)
    marked = {"synthetic": row.synthetic} if synthetic else {}
    if imported:
        marked["imported"] = row.imported
    return {**row.data, **score_columns(row.score), **marked}


def parquet_bytes(
    records: list[dict[str, Any]], schema: Any = None, float_columns: Collection[str] = ()
) -> bytes:
    """Rows as a parquet file (with `schema`: the one a rewritten file had). `float_columns`
    are float64 whatever their values: a column of nulls alone would be typed null."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    table = pa.Table.from_pylist(records, schema=schema)
    for name in float_columns:
        i = table.schema.get_field_index(name)
        if i >= 0:
            field = pa.field(name, pa.float64(), nullable=True)
            table = table.set_column(i, field, table.column(name).cast(pa.float64()))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
