"""The dataset card written beside each export: what is in the file and how it was made."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from memory.export.candidates import CANDIDATE_DROP
from memory.export.kinds import REGISTRY, ExportKind, card_format, writes_frozen
from memory.export.rows import CandidateCount, ExportFilters, Row
from memory.journal.signals import FileFormat

DPO_PAIRS = (
    "How pairs are formed: for each message with more than one complete reply, the kept reply "
    "(the version the person went on from in the chat, or chose with `hearth choose`; else the "
    "latest) is `chosen` over each other version (signal `sibling`), and a reply the person "
    "edited is `chosen` over the text it corrected (signal `edit`). No pair where the two texts "
    "are the same, where the other version was rated higher, or below `--min-rating`."
)


SCORE_COLUMNS_TEXT = (
    "Every row has three score columns, nullable floats from `hearth score` (the most recent "
    "scoring of the reply, by whichever model did it): `score_full`, the reply's mean "
    "log-probability per token (nats) given the prompt it saw; `score_no_notes`, the same "
    "without the notes recalled for it; `score_drop`, `score_full - score_no_notes`. They are "
    "null when the reply was never scored, and the last two when no notes were recalled for it. "
    "A row with one reply carries its scores, a DPO row those of `chosen`, a conversation row "
    "those of its trained reply with the largest drop. A reply is a training candidate when "
    f"`score_drop` >= {CANDIDATE_DROP}: its notes carried what it needed, which the model has "
    "not internalised. Rows are in no meaningful order (trainers shuffle)."
)


OPENAI_SCORES_TEXT = (
    "This kind has no score columns: it is uploaded as it is, `messages` only. With "
    f"`--candidates`, only replies whose notes carried them (`hearth score`'s drop >= "
    f"{CANDIDATE_DROP}) have `weight` 1."
)


def card_path(export_path: Path) -> Path:
    """`<file name>.card.md` beside the export: `sft.jsonl` and `sft.parquet` have one each."""
    return export_path.with_name(f"{export_path.name}.card.md")


def render_card(
    *,
    export_id: int,
    kind: ExportKind,
    file_format: FileFormat,
    path: Path,
    sha256: str,
    rows: Sequence[Row],
    filters: ExportFilters,
    min_rating: int,
    redaction: Counter[str] | None,
    command: str,
    created_at: datetime,
    sensitive_left_out: int | None = None,
    candidates: CandidateCount | None = None,
) -> str:
    """The card's markdown, with YAML front matter that the Hugging Face hub reads."""
    frozen = writes_frozen(kind, filters.context_frozen)
    signals = Counter(r.signal for r in rows)
    trained = {i for r in rows for i in r.trained_ids}
    context = {i for r in rows for i in r.context_ids} - trained
    times = [t for r in rows for t in r.trained_at]
    models = sorted({name for r in rows for name in r.models})
    scored = sum(1 for r in rows if r.score is not None)
    sessions = {r.session_id for r in rows}
    loader = "json" if file_format == "jsonl" else "parquet"
    lines = [
        "---",
        f"pretty_name: Hearth {kind} export {export_id}",
        "configs:",
        "- config_name: default",
        f"  data_files: {path.name}",
        f"tags: [hearth, {kind}, conversational]",
        "---",
        "",
        f"# Hearth export {export_id}: {kind}",
        "",
        f"Format: {card_format(kind, filters.context_frozen)}, {file_format}. Load it with "
        f'`datasets.load_dataset("{loader}", data_files="{path.name}")`.',
        "",
        *([DPO_PAIRS, ""] if kind == "dpo" else []),
        "| | |",
        "|---|---|",
        f"| file | `{path.name}` |",
        f"| sha256 | `{sha256}` |",
        f"| written | {created_at.isoformat(timespec='seconds')} |",
        f"| rows | {len(rows)} |",
        f"| replies trained | {len(trained)} |",
        f"| other messages (context) | {len(context)} |",
        f"| sessions | {len(sessions)} |",
        f"| dates of trained replies | {_range(times)} |",
        f"| models | {', '.join(models) or 'not recorded'} |",
        f"| user corrections in rows | {sum(r.corrections for r in rows)} |",
        f"| replies with a note | {sum(r.notes for r in rows)} |",
        f"| redaction | {_redaction(redaction)} |",
        f"| sensitive kinds | {_sensitive(sensitive_left_out)} |",
        f"| system prompt | {'stripped' if filters.system_prompt == 'strip' else 'kept'} |",
        f"| context | {'frozen: only the reply is trained' if frozen else 'whole conversations'} |",
        f"| filters | {_filters(filters, min_rating)} |",
        *([f"| synthetic rows | {_dreams(rows, kind)} |"] if filters.include_synthetic else []),
        *([f"| imported rows | {_imported(rows, kind)} |"] if filters.include_imported else []),
        f"| rows with scores | {scored} of {len(rows)} |",
        *([f"| candidates | {_candidates(candidates)} |"] if candidates is not None else []),
        "",
        "## Score columns",
        "",
        SCORE_COLUMNS_TEXT if REGISTRY[kind].scored else OPENAI_SCORES_TEXT,
        "",
        "## Rows by signal",
        "",
        "| signal | rows |",
        "|---|---|",
        *(f"| {name} | {count} |" for name, count in sorted(signals.items())),
        "",
        "## Command",
        "",
        "```",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


def _dreams(rows: Sequence[Row], kind: ExportKind) -> str:
    made_up = sum(1 for r in rows if r.synthetic)
    return (
        f"{made_up} of {len(rows)} rows are dreams (made-up turns from `hearth dream`, "
        "accepted or edited by the person; the instructions that made them are not included)"
        + ("; the `synthetic` column marks them" if REGISTRY[kind].scored else "")
    )


def _candidates(count: CandidateCount) -> str:
    return (
        f"only candidates (score_drop >= {CANDIDATE_DROP}): {count.candidates} of "
        f"{count.replies} replies otherwise selected; {count.unscored} never scored"
    )


def _range(times: list[datetime]) -> str:
    if not times:
        return "none"
    first, last = min(times).astimezone(UTC), max(times).astimezone(UTC)
    return f"{first.date().isoformat()} to {last.date().isoformat()} (UTC)"


def _redaction(counts: Counter[str] | None) -> str:
    if counts is None:
        return "off"
    found = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "nothing found"
    return (
        f"on (presidio-analyzer pattern recognisers, Hearth's secrets detector; replaced: {found})"
    )


def _sensitive(left_out: int | None) -> str:
    if left_out is None:
        return "included (--include-sensitive)"
    return f"left out: {left_out} rows about health, feelings or private matters"


def _imported(rows: Sequence[Row], kind: ExportKind) -> str:
    brought = sum(1 for r in rows if r.imported)
    return (
        f"{brought} of {len(rows)} rows train replies other models wrote, brought in by "
        "`hearth import` (no prompt Hearth built; the provider's terms may restrict training "
        "on them)" + ("; the `imported` column marks them" if REGISTRY[kind].scored else "")
    )


def _filters(filters: ExportFilters, min_rating: int) -> str:
    parts = [f"min rating {min_rating:+d}" if min_rating else "min rating 0"]
    if filters.since is not None:
        parts.append(f"since {filters.since.isoformat()}")
    if filters.until is not None:
        parts.append(f"until {filters.until.isoformat()}")
    if filters.session_id is not None:
        parts.append(f"session {filters.session_id}")
    if filters.only_new:
        parts.append("only never-exported replies")
    parts.append("synthetic included" if filters.include_synthetic else "synthetic left out")
    if filters.include_imported:
        parts.append("imported replies included")
    if filters.candidates:
        parts.append("only training candidates")
    return "; ".join(parts)
