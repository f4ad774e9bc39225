"""How the memory panel draws one memory: kind, date, why it was recalled, its words (inert)."""

from __future__ import annotations

from typing import Protocol

from textual.content import Content

from agent.conversation import PanelRow
from agent.conversation_items import panel_row
from agent.display import inert
from agent.reply_memories import MemoryRow

# The score parts as the panel names them ("words" is the lexical match, bm25).
PARTS: tuple[tuple[str, str], ...] = (
    ("dense", "dense"),
    ("lexical", "words"),
    ("recency", "recent"),
    ("importance", "importance"),
    ("graph", "linked"),
)


WIDTH = 34
"""Characters a line of the panel holds (its width, less border, padding and scroll bar)."""


class Scores(Protocol):
    """Why a memory was recalled: the fused score and its parts (`agent.conversation.Why`)."""

    @property
    def score(self) -> float | None: ...


def number(value: float, digits: int = 2) -> str:
    """A short number: ".61", "1", "2.31" (no leading zero, no trailing ones)."""
    shown = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    if shown in ("", "-", "-0"):
        return "0"
    return shown.replace("0.", ".", 1) if shown.lstrip("-").startswith("0.") else shown


def why_text(note: Scores, width: int | None = None) -> str:
    """Why a memory was recalled: `.082: dense .61 · words 2.3 · recent .9 · importance .5`.
    The score is the reciprocal-rank fusion of the parts (each ranked among the candidates,
    then weighted), not their sum; a part the ranker did not find is left out. With `width`,
    lines break between parts, never inside one."""
    if note.score is None:
        return "why: not kept for this older reply"
    parts = [
        f"{name} {number(value)}"
        for field, name in PARTS
        if (value := getattr(note, field)) is not None
    ]
    lines = [f"{number(note.score, 3)}:"]
    for part in parts:
        joined = f"{lines[-1]} {part}" if lines[-1].endswith(":") else f"{lines[-1]} · {part}"
        if width is not None and len(joined) > width:
            lines.append(part)
        else:
            lines[-1] = joined
    return "\n".join(lines)


def row_content(row: PanelRow | MemoryRow, *, revealed: bool) -> Content:
    """One memory as an option: what it is and when it was learned, its words (never markup,
    control characters shown), and why it was recalled. A sensitive memory's words only when
    `revealed`: the panel may be on screen with others around."""
    if isinstance(row, MemoryRow):
        row = panel_row(row)
    memory = row.memory
    if memory is None:
        return Content.assemble(("forgotten", "italic"), f"  {row.memory_id}")
    marks = [memory.kind, f"learned {memory.learned_at.astimezone():%Y-%m-%d}"]
    marks += ["pinned"] * memory.pinned + ["accepted"] * row.accepted
    marks += ["superseded"] * (memory.expired_at is not None)
    marks += ["private"] * memory.sensitive
    if memory.sensitive and not revealed:
        words: str | tuple[str, str] = ("private: s shows it", "italic")
    else:
        words = inert(memory.text, line_breaks=False)
    parts: list[str | tuple[str, str]] = [(" · ".join(marks), "dim"), "\n", words]
    if row.why is not None:
        parts += ["\n", (why_text(row.why, WIDTH), "dim")]
    if row.used is not None:
        parts += ["\n", (row.used, "dim")]
    return Content.assemble(*parts)
