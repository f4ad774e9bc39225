"""What the chat's rooms share: the app's state and the few calls one room makes on another."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.conversation import Action, Conversation
from tui.chat.log import ChatLog
from tui.chat.status import StatusLine
from tui.widgets.messages import MessageView

if TYPE_CHECKING:
    from textual.app import App

    _AppBase = App[None]
else:
    _AppBase = object


@dataclass
class Job:
    """One reply to write: to a new message (`text`), or again to a journaled one (`user_id`:
    a regeneration, or the answer to an edited message)."""

    text: str = ""
    use_memory: bool = True
    user_id: int | None = None
    view: MessageView | None = None
    """The user's message on screen, given its journal id once the turn has written it."""
    seen: list[int] = field(default_factory=list)


class ChatHost(_AppBase):
    """The chat app as its rooms (tui/chat/*) see it: typed here, kept by `tui.app.HearthApp`."""

    conversation: Conversation
    opened: bool
    """The conversation's opening reached the UI thread (`Conversation.open` ran on a worker):
    turns and the actions on messages wait for it."""
    open_error: str | None
    """Why the conversation could not open (a server away): what is typed is refused with it
    rather than waiting for ever."""
    session_id: int | None
    memory_on: bool
    pending: deque[Job]
    generating: bool
    stop_event: threading.Event
    turn_done: threading.Event
    """Set while no turn runs: the journal must outlive the turn writing to it."""
    warm: threading.Event
    view_head: int | None
    """The message whose branch is on screen when the person switched versions (None: the
    session's head). Browsing writes nothing; going on from it does."""
    browsed: set[int]
    """Parents whose replies the person swiped through or regenerated: the version shown
    when they go on is recorded as chosen over the others."""
    input_mode: tuple[str, int] | None
    """("edit" | "note", message id) while the input holds an edit or a note."""
    lent_to_name: str | None
    """Who the data dir is lent to, as the chat names them (tui/chat/lending.py), while it is."""
    idle_since: float
    idle_slept: bool

    @property
    def log_view(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def status_line(self) -> StatusLine:
        return self.query_one(StatusLine)

    def refresh_status(self) -> None:
        self.status_line.show(
            memory_on=self.memory_on, session_id=self.session_id, lent_to=self.lent_to_name
        )

    def unavailable(self, action: Action) -> str | None:
        """Why the conversation cannot do `action` here (it is greyed out), else None."""
        return self.conversation.unsupported(action)

    # Provided by the rooms and the app (tui/app.py).

    def show_memory_for(self, reply_id: int | None) -> None:
        raise NotImplementedError

    def show_path(self, head: int | None) -> int:
        raise NotImplementedError

    def next_turn(self) -> None:
        raise NotImplementedError

    def end_input_mode(self) -> None:
        raise NotImplementedError

    def save_edit(self, message_id: int, text: str) -> None:
        raise NotImplementedError

    def save_note(self, message_id: int, text: str) -> None:
        raise NotImplementedError

    def go_on(self) -> None:
        raise NotImplementedError

    def lent(self) -> bool:
        raise NotImplementedError

    def refresh_welcome(self) -> None:
        raise NotImplementedError

    def drop_welcome(self) -> None:
        raise NotImplementedError
