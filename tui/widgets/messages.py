"""How one chat message looks: the speaker as a border title, the text as markdown."""

from __future__ import annotations

from textual.await_complete import AwaitComplete
from textual.content import Content
from textual.widgets import Markdown

from memory.controls import inert
from memory.journal.schemas import Status

_NOTES: dict[str, str] = {
    "incomplete": " (unfinished)",
    "interrupted": " (stopped)",
    "error": " (failed)",
}


class MessageView(Markdown):
    """A user message or a reply; replies stream into it. Whatever it is given, from the
    journal or streamed, shows its control characters as symbols (the journal keeps them)."""

    def __init__(
        self,
        role: str,
        text: str,
        speaker: str,
        status: Status = "complete",
        message_id: int | None = None,
    ) -> None:
        super().__init__(inert(text), classes=role)
        self.role = role
        self.speaker = speaker
        self.message_id = message_id
        """The journal message shown (None while a reply streams, until it is saved)."""
        self.set_status(status)

    def update(self, markdown: str) -> AwaitComplete:
        return super().update(inert(markdown))

    def append(self, markdown: str) -> AwaitComplete:
        return super().append(inert(markdown))

    def set_status(self, status: Status) -> None:
        # Plain content, never markup: a speaker's name may come from stored text.
        self.border_title = Content(inert(self.speaker + _NOTES.get(status, "")))
