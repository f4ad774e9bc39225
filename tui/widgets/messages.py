"""How one chat message looks: the speaker as a border title, the text as markdown."""

from __future__ import annotations

from textual.widgets import Markdown

from memory.journal.schemas import Status

_NOTES: dict[str, str] = {
    "incomplete": " (unfinished)",
    "interrupted": " (stopped)",
    "error": " (failed)",
}


class MessageView(Markdown):
    """A user message or a reply; replies stream into it."""

    def __init__(self, role: str, text: str, speaker: str, status: Status = "complete") -> None:
        super().__init__(text, classes=role)
        self.role = role
        self.speaker = speaker
        self.set_status(status)

    def set_status(self, status: Status) -> None:
        self.border_title = self.speaker + _NOTES.get(status, "")
