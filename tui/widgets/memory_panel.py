"""The memory panel: what one reply recalled and remembered, and the person's word on each."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from agent.conversation import Conversation, PanelRow
from agent.display import has_secret
from memory.errors import HearthError
from tui.widgets.memory_dialogs import ConfirmReject, EditMemory
from tui.widgets.memory_rows import row_content

KEYS = "p pin · e edit · r reject · a accept\ns show private · ctrl+b close"
HEADINGS = {"recalled": "recalled for this reply", "remembered": "remembered after it"}


class MemoryPanel(Vertical):
    """Docked beside the chat (ctrl+b): the memories recalled for one reply, with why, and
    those stored after it. Reads are quick (`Conversation.reply_memories`), done on the UI
    thread; changes run in a worker, between turns, and report back with `Changed`."""

    BINDINGS = [
        Binding("p", "pin", "Pin/unpin", id="memory_panel.pin"),
        Binding("e", "edit", "Edit", id="memory_panel.edit"),
        Binding("r", "reject", "Reject", id="memory_panel.reject"),
        Binding("a", "accept", "Accept", id="memory_panel.accept"),
        Binding("s", "reveal", "Show private", id="memory_panel.reveal"),
    ]

    class Changed(Message):
        """A change finished in the worker: what to tell the person, or what went wrong."""

        def __init__(self, note: str | None, error: str | None = None) -> None:
            super().__init__()
            self.note = note
            self.error = error

    def __init__(self, conversation: Conversation) -> None:
        super().__init__()
        self.conversation = conversation
        self.reply_id: int | None = None
        self.rows: list[PanelRow] = []
        self.revealed: set[str] = set()
        """Sensitive memories whose words the person asked to see, for this reply only."""

    def compose(self) -> ComposeResult:
        yield Static(id="memory-panel-title", markup=False)
        yield OptionList(id="memory-panel-list", markup=False)
        yield Static(KEYS, id="memory-panel-keys", markup=False)

    # -- what is shown ------------------------------------------------------------------

    def show_reply(self, reply_id: int | None) -> None:
        """Show this reply's memories (None: no reply yet)."""
        if reply_id != self.reply_id:
            self.revealed.clear()
        self.reply_id = reply_id
        self.reload()

    def focus_list(self) -> None:
        self.query_one(OptionList).focus()

    def reload(self) -> None:
        """Read the rows again (the store may have changed) and keep the highlighted one."""
        kept = self._current()
        title, rows = self._read()
        self.rows = rows or []
        self.query_one("#memory-panel-title", Static).update(title)
        listed = self.query_one(OptionList)
        listed.clear_options()
        for section, heading in HEADINGS.items() if rows is not None else ():
            listed_here = [r for r in self.rows if r.section == section]
            count = len(listed_here) or "none"
            listed.add_option(Option(f"{heading}: {count}", disabled=True))
            for row in listed_here:
                shown = row_content(row, revealed=row.memory_id in self.revealed)
                listed.add_option(Option(shown, id=_option_id(row)))
        ids = [_option_id(r) for r in self.rows]
        if ids:
            wanted = _option_id(kept) if kept is not None and _option_id(kept) in ids else ids[0]
            listed.highlighted = listed.get_option_index(wanted)

    def _read(self) -> tuple[str, list[PanelRow] | None]:
        """The title, and the rows (None: no reply with memory on to list them for)."""
        why = self.conversation.unsupported("memory_panel")
        if why is not None:
            return why, None
        state = self.conversation.memory_state
        if state == "loading":
            return "Opening the memory…", None
        if state != "open":
            lent_to = getattr(self.app, "lent_to", None)  # tui/chat_lender.py: back in a moment
            if lent_to is not None:
                return f"{lent_to.command} is using the memory; back when it ends.", None
            return "Memory is off in this chat.", None
        if self.reply_id is None:
            return "No reply yet.", None
        found = self.conversation.reply_memories(self.reply_id)
        if not found.memory:
            return f"Reply {self.reply_id}: off the record, nothing recalled or kept.", None
        return f"Memory for reply {self.reply_id}", found.rows

    def _current(self) -> PanelRow | None:
        listed = self.query_one(OptionList)
        if listed.highlighted is None or listed.option_count == 0:
            return None
        wanted = listed.get_option_at_index(listed.highlighted).id
        return next((r for r in self.rows if _option_id(r) == wanted), None)

    # -- the person's word on the highlighted memory ------------------------------------

    def _chosen(self) -> PanelRow | None:
        row = self._current()
        if row is None:
            self.notify("Choose a memory first.", markup=False)
            return None
        if row.memory is None:
            self.notify("That memory is forgotten.", markup=False)
            return None
        return row

    def action_pin(self) -> None:
        row = self._chosen()
        if row is None or row.memory is None:
            return
        memory_id = row.memory_id
        if row.memory.pinned:
            self._change(lambda c: c.pin(memory_id, False), "Unpinned.")
        else:
            self._change(lambda c: c.pin(memory_id, True), "Pinned: always in view.")

    def action_accept(self) -> None:
        row = self._chosen()
        if row is not None:
            memory_id = row.memory_id
            self._change(lambda c: c.accept(memory_id), "Accepted.")

    def action_reveal(self) -> None:
        row = self._current()
        if row is not None and row.memory is not None and row.memory.sensitive:
            self.revealed ^= {row.memory_id}
            self.reload()

    def action_edit(self) -> None:
        row = self._chosen()
        if row is None or row.memory is None:
            return
        memory_id = row.memory_id
        if row.memory.sensitive and memory_id not in self.revealed:
            # Editing shows the words: only once the person has asked to see them.
            self.notify("It is private: s shows it, then e edits it.", markup=False)
            return

        def save(text: str | None) -> None:
            if text is None:
                return
            if has_secret(text):
                # As `hearth memory edit` refuses one without --secret: never kept by accident.
                self.notify("Not saved: the text holds a secret.", severity="error", markup=False)
                return
            self._change(lambda c: c.edit_memory(memory_id, text), "Edited.")

        self.app.push_screen(EditMemory(row.memory.text), save)

    def action_reject(self) -> None:
        row = self._chosen()
        if row is None or row.memory is None:
            return
        memory_id, memory = row.memory_id, row.memory
        hidden = memory.sensitive and memory_id not in self.revealed
        what = f"this private {memory.kind}" if hidden else memory.text

        def answer(reject: bool | None) -> None:
            if reject:
                self._change(
                    lambda c: c.reject(memory_id),
                    "Rejected: forgotten, and the same words will not be learned again.",
                )

        self.app.push_screen(ConfirmReject(what), answer)

    @work(thread=True, exclusive=True, group="memory", exit_on_error=False)
    def _change(self, change: Callable[[Conversation], object], done: str) -> None:
        # A worker: a reject forgets, which rebuilds the index and rewrites files.
        if not self.conversation.ready:
            self.post_message(self.Changed(None, "The memory is not open yet."))
            return
        try:
            change(self.conversation)
        except HearthError as exc:
            self.post_message(self.Changed(None, str(exc)))
        except Exception as exc:
            self.log.error(f"memory change failed: {exc!r}")
            self.post_message(self.Changed(None, f"the change failed: {exc}"))
        else:
            self.post_message(self.Changed(done))

    @on(Changed)
    def _changed(self, event: Changed) -> None:
        if event.error is not None:
            self.notify(event.error, severity="error", timeout=15, markup=False)
        elif event.note is not None:
            self.notify(event.note, markup=False)
        self.reload()


def _option_id(row: PanelRow) -> str:
    # A memory may be both recalled and remembered by one turn: the section keeps ids unique.
    return f"{row.section}:{row.memory_id}"
