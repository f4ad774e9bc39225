"""The chat log: the conversation's messages on screen, the selected one, and their versions."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget

from agent.conversation import ChatMessage
from tui.widgets.messages import MessageView


def memory_note(recalled: int, stored: int) -> str:
    parts = [f"recalled {recalled}" if recalled else "", f"remembered {stored}" if stored else ""]
    return " · ".join(p for p in parts if p)


def view_of(m: ChatMessage) -> MessageView:
    """A journaled message as the chat draws it."""
    view = MessageView(m.role, m.text, m.speaker, m.status, message_id=m.id)
    if m.role == "user" and m.recalled:
        view.set_memory_note(f"recalled {m.recalled}")
    if m.role == "assistant" and m.stored:
        view.set_memory_note(memory_note(0, m.stored))
    if m.rating is not None:
        view.set_rating(m.rating)
    return view


class ChatLog(VerticalScroll):
    """The messages of the conversation on screen, oldest first (a welcome while empty)."""

    def __init__(self) -> None:
        super().__init__(id="chat")

    def views(self) -> list[MessageView]:
        return list(self.query(MessageView))

    def show(self, thread: list[ChatMessage]) -> None:
        """Show this conversation, keeping the views it shares with what is on screen."""
        views = self.views()
        same = 0
        while same < min(len(views), len(thread)) and views[same].message_id == thread[same].id:
            same += 1
        for view in views[same:]:
            view.remove()
        for m in thread[same:]:
            self.mount(view_of(m))

    def mark_versions(self, versions: dict[int, list[int]]) -> None:
        for view in self.views():
            if view.message_id is not None:
                view.set_versions(versions.get(view.message_id))

    def last_reply_id(self) -> int | None:
        replies = [v.message_id for v in self.views() if v.role == "assistant"]
        return next((i for i in reversed(replies) if i is not None), None)

    def target(self, focused: Widget | None, role: str | None = None) -> MessageView | None:
        """The selected message (if of that role), else the last one of that role; journaled
        messages only."""
        if isinstance(focused, MessageView) and focused.message_id is not None:
            return focused if role is None or focused.role == role else None
        for view in reversed(self.views()):
            if view.message_id is not None and (role is None or view.role == role):
                return view
        return None

    def version_target(self, focused: Widget | None) -> MessageView | None:
        if isinstance(focused, MessageView):
            return focused if focused.version is not None else None
        return next((v for v in reversed(self.views()) if v.version is not None), None)

    def view_with(self, message_id: int) -> MessageView | None:
        return next((v for v in self.views() if v.message_id == message_id), None)
