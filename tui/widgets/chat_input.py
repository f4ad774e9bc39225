"""The chat input: a multi-line TextArea where enter sends, a remappable key adds a newline, and
up on an empty input brings back what was sent before."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class ChatInput(TextArea):
    """Enter submits; `chat.newline` (ctrl+j by default, remappable) inserts a newline."""

    BINDINGS = [Binding("ctrl+j", "newline", "Newline", id="chat.newline", show=False)]

    class Submitted(Message):
        """The user pressed enter on a non-empty input."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.sent: list[str] = []
        self._recalled: int | None = None
        """Which of `sent` the input shows (None: what the person is typing)."""

    def remember(self, text: str) -> None:
        """A sent message, for up-arrow recall (this run's messages, and the session's)."""
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)
        self._recalled = None

    async def _on_key(self, event: events.Key) -> None:
        if event.key in ("up", "down") and self._recall(-1 if event.key == "up" else 1):
            event.stop()
            event.prevent_default()
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(text))
                self.clear()
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")

    def _recall(self, step: int) -> bool:
        """Up on an empty input (or on a recalled message) shows the one sent before; down goes
        forward, past the last to an empty input. False: the key moves the cursor as usual."""
        if self._recalled is None and (step > 0 or self.text or not self.sent):
            return False
        if self._recalled is not None and self.text != self.sent[self._recalled]:
            self._recalled = None  # edited: the cursor keys are the person's again
            return False
        index = (len(self.sent) if self._recalled is None else self._recalled) + step
        if index >= len(self.sent):
            self._recalled = None
            self.clear()
            return True
        self._recalled = max(index, 0)
        self.load_text(self.sent[self._recalled])
        self.move_cursor(self.document.end)
        return True
