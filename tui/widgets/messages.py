"""How one chat message looks: the speaker as a border title, the text as markdown, and below
it which version it is, what it did with memory and how it was rated."""

from __future__ import annotations

import re

from textual.await_complete import AwaitComplete
from textual.content import Content
from textual.widgets import Markdown

from agent.conversation import Status
from agent.display import inert
from tui.keys import bindings

_NOTES: dict[str, str] = {
    "incomplete": " (unfinished)",
    "interrupted": " (stopped)",
    "error": " (failed)",
}
LEFT, RIGHT = "\u2039", "\u203a"
"""Angle quotes around "2/3": the marker SillyTavern users know from swipes."""
_RATINGS = {1: "▲ liked", -1: "▼ disliked"}
_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)


def code_blocks(markdown: str) -> list[str]:
    """The fenced code blocks of a message, their contents only: what "copy code" copies."""
    return [m.group(2) for m in _FENCE.finditer(markdown)]


class MessageView(Markdown):
    """A user message or a reply; replies stream into it. Whatever it is given, from the
    journal or streamed, shows its control characters as symbols (the journal keeps them).

    It can take focus (alt+up / alt+down, or clicking it): the keys below then act on it."""

    can_focus = True
    BINDINGS = bindings("message")

    def __init__(
        self,
        role: str,
        text: str,
        speaker: str,
        status: Status = "complete",
        *,
        message_id: int | None = None,
    ) -> None:
        super().__init__(inert(text), classes=role)
        self.role = role
        self.speaker = speaker
        self.text = text
        self.message_id = message_id
        """The journal's id (None until the turn that writes it has run)."""
        self.version: tuple[int, int] | None = None
        """(which, of how many) when the message has other versions."""
        self.memory_note = ""
        self.recalled = 0
        """How many memories were recalled for the message this replies to."""
        self.rating = 0
        self.set_status(status)

    def update(self, markdown: str) -> AwaitComplete:
        self.text = markdown
        return super().update(inert(markdown))

    def append(self, markdown: str) -> AwaitComplete:
        self.text += markdown
        return super().append(inert(markdown))

    def set_status(self, status: Status) -> None:
        # Plain content, never markup: a speaker's name may come from stored text.
        self.border_title = Content(inert(self.speaker + _NOTES.get(status, "")))

    def set_versions(self, ids: list[int] | None) -> None:
        """Mark which version this is among its siblings (None: it has none)."""
        if ids and self.message_id in ids:
            self.version = (ids.index(self.message_id) + 1, len(ids))
        else:
            self.version = None
        self._refresh_subtitle()

    def set_memory_note(self, note: str) -> None:
        self.memory_note = note
        self._refresh_subtitle()

    def set_rating(self, rating: int) -> None:
        self.rating = rating
        self._refresh_subtitle()

    def _refresh_subtitle(self) -> None:
        parts = []
        if self.version is not None:
            parts.append(f"{LEFT} {self.version[0]}/{self.version[1]} {RIGHT}")
        if self.memory_note:
            parts.append(self.memory_note)
        if self.rating in _RATINGS:
            parts.append(_RATINGS[self.rating])
        self.border_subtitle = Content(" · ".join(parts)) if parts else ""
