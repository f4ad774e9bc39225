"""The welcome in an empty chat: the session, what Hearth holds about the person, the keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.widgets import Static

from agent.conversation import MemoryItem
from agent.display import inert
from agent.tiny_tip import TINY_MODEL_TIP, TIP_SHOWN, tiny_model_tip

__all__ = ["TINY_MODEL_TIP", "TIP_SHOWN", "Welcome", "tiny_model_tip", "welcome_text"]

SHOWN_CORE = 5
"""Pinned memories listed by name; the rest are counted."""

KEYS = [
    ("chat.newline", "new line"),
    ("chat.regenerate", "another reply"),
    ("chat.memory", "off the record"),
    ("chat.new", "new session"),
    ("app.help", "every key"),
]
"""The keys a newcomer needs first, by action id: a remapped key is shown as remapped."""


def welcome_text(
    session: int | None,
    pinned: Sequence[MemoryItem] | None,
    count: int | None,
    keys: Mapping[str, str],
    tip: str | None = None,
) -> str:
    """What the empty chat says. `pinned` and `count` are None until the memory is open; `tip`
    is a line for a newcomer (tiny_model_tip)."""
    lines = [f"Session {session}." if session is not None else "A new session."]
    if count is None or pinned is None:
        lines.append("Opening the memory…")
    elif count == 0:
        lines.append("Nothing remembered yet: tell me about yourself.")
    else:
        noun = "thing" if count == 1 else "things"
        lines.append(f"I remember {count} {noun} about you.")
        # Health, feelings and other people's private matters are never put on this screen.
        shown = [m for m in pinned if not m.sensitive][:SHOWN_CORE]
        lines.extend(f"  • {inert(m.text, line_breaks=False)}" for m in shown)
    if tip is not None:
        lines.extend(["", tip])
    hints = ["enter send", *(f"{keys[i]} {what}" for i, what in KEYS if keys.get(i))]
    lines.extend(["", " · ".join(hints)])
    return "\n".join(lines)


class Welcome(Static):
    """Shown in the empty chat; removed when the first message appears."""

    def __init__(self, text: str) -> None:
        super().__init__(text, id="welcome", markup=False)
