"""The memory screen: what Hearth remembers, found by meaning or by kind and person, and fixed:
added, edited, pinned or forgotten."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Sparkline, Static
from textual.worker import get_current_worker

from agent.conversation import MEMORY_KINDS, Conversation, MemoryDetail, MemoryItem
from agent.display import inert, secret_kinds
from memory.errors import HearthError
from tui.widgets.dialogs import ConfirmDialog, TextDialog
from tui.widgets.tables import cursor_key

HIDDEN = "(sensitive: press v to show)"
WRITES = ("add", "edit", "pin", "forget")
"""The screen's actions that change the memory."""
SEARCH_K = 50
"""Hits a search lists (the list without words has every current memory)."""


MemoryWrite = Callable[[Conversation], "str | None"]
"""A change to the memory; the memory id to keep highlighted after it."""


def _when(at: datetime | None) -> str:
    """An absolute local time: a screen read later (or a snapshot) says the same."""
    return at.astimezone().strftime("%Y-%m-%d %H:%M") if at is not None else "unknown"


def _one_line(text: str, width: int) -> str:
    line = inert(text, line_breaks=False)
    return line if len(line) <= width else line[: width - 1] + "…"


class MemoryScreen(Screen[None]):
    """Every current memory, newest first (or the best hits for the search), and the one
    highlighted in full: its sources, links and history."""

    DEFAULT_CSS = """
    MemoryScreen #memory-search { border: round $primary; }
    MemoryScreen #memory-info { height: 1; padding: 0 1; color: $text-muted; }
    MemoryScreen #understanding { height: 1; padding: 0 1; display: none; }
    MemoryScreen #understanding.measured { display: block; }
    MemoryScreen #understanding-line { width: auto; color: $text-muted; }
    MemoryScreen #understanding-sparkline { width: 1fr; margin-left: 1; }
    MemoryScreen DataTable { height: 1fr; }
    MemoryScreen #memory-pane { height: 45%; border: round $primary-background; padding: 0 1; }
    """

    BINDINGS = [
        Binding("a", "add", "Add", id="memory.add"),
        Binding("e", "edit", "Edit", id="memory.edit"),
        Binding("p", "pin", "Pin", id="memory.pin"),
        Binding("f", "forget", "Forget", id="memory.forget"),
        Binding("v", "reveal", "Show sensitive", id="memory.reveal"),
        Binding("k", "kind", "Kind", id="memory.kind"),
        Binding("w", "person", "Who", id="memory.person"),
        Binding("slash", "search", "Search", id="memory.search"),
        Binding("down", "list", "To the list", show=False, id="memory.list"),
        Binding("escape", "back", "Back", id="memory.back"),
    ]

    def __init__(self, conversation: Conversation) -> None:
        super().__init__()
        self.conversation = conversation
        """Its writes run between the chat's turns: a turn and its background write use the
        same index, which takes one writer at a time."""
        self.kind: str | None = None
        self.person: str | None = None
        self.reveal = False
        self.rows: dict[str, MemoryItem] = {}
        self.busy = ""
        self._asked = 0
        """Bumped at each listing: a search that ends after a newer listing is dropped."""

    def unavailable_action(self, action: str) -> str | None:
        """Why a change cannot be made here (a server without the routes), else None."""
        if action in WRITES:
            return self.conversation.unsupported("memory_change")
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.unavailable_action(action) is not None else True  # greyed, with why

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="Search memories… (/ searches, down goes to the list)", id="memory-search"
        )
        yield Static(id="memory-info", markup=False)
        with Horizontal(id="understanding"):
            yield Static(id="understanding-line", markup=False)
            yield Sparkline([], id="understanding-sparkline")
        yield DataTable(id="memory-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="memory-pane"):
            yield Static(id="memory-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("kind", key="kind")
        table.add_column("learned", key="learned")
        table.add_column("", key="pin")
        table.add_column("text", key="text")
        self._fill()
        self._understanding()
        table.focus()

    def _understanding(self) -> None:
        """What `hearth understanding` measured, if it ran: how much less surprising memory
        made the person, session by session (one small query: the figures are stored)."""
        sessions = self.conversation.understanding()
        if not sessions:
            return
        last = sessions[-1]
        self.query_one("#understanding-line", Static).update(
            f"understanding: {last.bits_alone:.2f} → {last.bits_with:.2f} bits/token last "
            f"session ({last.saved:+.2f}); by session:"
        )
        self.query_one("#understanding-sparkline", Sparkline).data = [s.saved for s in sessions]
        self.query_one("#understanding").add_class("measured")

    # -- the list -----------------------------------------------------------------------

    def _words(self) -> str:
        return self.query_one("#memory-search", Input).value.strip()

    def _fill(self, keep: str | None = None) -> None:
        """List what the search finds (the store's hybrid search when there are words, in a
        worker: it embeds them), else every current memory, newest first."""
        self._asked += 1
        chosen = self._highlighted()
        keep = keep or (chosen.id if chosen else None)
        words = self._words()
        if words:
            self._search(words, self._asked, keep)
            return
        try:
            found = self.conversation.memories(self.kind)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._show(found, self._asked, keep)

    @work(thread=True, exclusive=True, group="memory-search", exit_on_error=False)
    def _search(self, words: str, asked: int, keep: str | None) -> None:
        try:
            hits = self.conversation.search(words, SEARCH_K, self.kind)
        except HearthError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, hits, asked, keep)

    def _show(self, found: Sequence[MemoryItem], asked: int, keep: str | None) -> None:
        if asked != self._asked or not self.is_attached:
            return
        if self.person is not None:
            found = [m for m in found if m.subject == self.person]
        table = self.query_one(DataTable)
        index = table.cursor_row
        self.rows = {m.id: m for m in found}
        table.clear()
        width = max(20, self.app.size.width - 36)
        for m in found:
            table.add_row(
                m.kind,
                _when(m.learned_at),
                "pin" if m.pinned else "",
                Text(HIDDEN if self._hidden(m) else _one_line(m.text, width)),
                key=m.id,
            )
        if keep in self.rows:
            index = table.get_row_index(keep)
        if found:
            table.move_cursor(row=min(index, len(found) - 1), animate=False)
        self._show_info()
        self._show_detail()

    def _show_info(self) -> None:
        count = len(self.rows)
        if count:
            parts = [f"{count} memor{'ies' if count != 1 else 'y'}"]
        else:
            parts = ["Nothing found." if self._words() else "Nothing remembered yet."]
        parts.append(f"kind: {self.kind or 'all'} (k)")
        parts.append(f"about: {self.person or 'anyone'} (w)")
        if self.busy:
            parts.append(self.busy)
        self.query_one("#memory-info", Static).update(" · ".join(parts))

    def _hidden(self, memory: MemoryItem) -> bool:
        return memory.sensitive and not self.reveal

    def _highlighted(self) -> MemoryItem | None:
        key = cursor_key(self.query_one(DataTable))
        return self.rows.get(key) if key is not None else None

    # -- the pane -----------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlight_moved(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        pane = self.query_one("#memory-detail", Static)
        memory = self._highlighted()
        try:
            found = self.conversation.memory(memory.id) if memory is not None else None
            pane.update(self._detail(found) if found is not None else Text(""))
        except HearthError as exc:  # forgotten meanwhile, or a store that cannot be read
            pane.update(Text(str(exc)))

    def _detail(self, detail: MemoryDetail) -> Text:
        """Everything about one memory; stored text always inert, never read as markup."""
        m = detail.memory
        hidden = self._hidden(m)
        out = Text()
        head = [m.kind, f"about {m.subject}", f"importance {m.importance:.2f}"]
        head += ["pinned"] if m.pinned else []
        head += m.flags
        out.append(" · ".join(inert(h, line_breaks=False) for h in head) + "\n", style="bold")
        out.append((HIDDEN if hidden else inert(m.text)) + "\n")
        if m.quote is not None and not hidden:
            out.append(f'said: "{inert(m.quote)}"\n', style="italic")
        out.append("\n")
        if m.valid_from or m.valid_to:
            true = f"from {_when(m.valid_from)}" + (
                f" to {_when(m.valid_to)}" if m.valid_to else ""
            )
        else:
            true = "unknown"
        out.append(f"true: {true}\nlearned: {_when(m.learned_at)}\n")
        if m.expired_at:
            out.append(f"retired: {_when(m.expired_at)}\n")
        # Only figures, never words: shown for a sensitive memory too (`hearth score`).
        if detail.used is not None:
            out.append(f"{detail.used}\n")
        out.append("\nsources\n", style="bold")
        for said in detail.sources:
            if said.role is not None and said.text is not None:
                snippet = HIDDEN if hidden else _one_line(said.text, 70)
                out.append(f"  message {said.message_id} ({said.role}): {snippet}\n")
            else:
                out.append(f"  message {said.message_id}: (no longer in the journal)\n")
        if not detail.sources:
            out.append("  none: added by hand\n" if not hidden else "  none\n")
        out.append("\nlinks\n", style="bold")
        for link in detail.links:
            arrow, other = ("→" if link.outgoing else "←"), link.other
            if other is None:
                words = "(forgotten)"
            else:
                words = HIDDEN if self._hidden(other) else _one_line(other.text, 70)
            out.append(f"  {arrow} {link.type}: {words}\n")
        if not detail.links:
            out.append("  none\n")
        out.append("\nhistory\n", style="bold")
        for entry in detail.history:
            out.append(f"  {_when(entry.at)}  {entry.action} by {entry.actor}\n")
        return out

    # -- actions ------------------------------------------------------------------------

    @on(Input.Changed, "#memory-search")
    def _search_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#memory-search")
    def _search_submitted(self) -> None:
        self.action_list()

    def action_search(self) -> None:
        self.query_one("#memory-search", Input).focus()

    def action_list(self) -> None:
        self.query_one(DataTable).focus()

    def action_back(self) -> None:
        self.dismiss()

    def action_reveal(self) -> None:
        self.reveal = not self.reveal
        self._fill()

    def action_kind(self) -> None:
        """All kinds, then each in turn."""
        order: list[str | None] = [None, *MEMORY_KINDS]
        self.kind = order[(order.index(self.kind) + 1) % len(order)]
        self._fill()

    def action_person(self) -> None:
        """Anyone, then each person a current memory is about, in turn."""
        try:
            people = sorted({m.subject for m in self.conversation.memories(None)})
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        order: list[str | None] = [None, *people]
        at = order.index(self.person) if self.person in order else 0
        self.person = order[(at + 1) % len(order)]
        self._fill()

    def action_pin(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        try:
            self.conversation.pin(chosen.id, not chosen.pinned)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
        self._fill(keep=chosen.id)

    def action_add(self) -> None:
        kind = self.kind or "fact"
        subject = self.person or "user"

        def add(text: str | None) -> None:
            if text and text.strip() and self._no_secret(text):
                self._write(
                    "remembering…",
                    lambda c: c.add_memory(text.strip(), kind, subject),
                )

        about = "you" if subject == "user" else inert(subject, line_breaks=False)
        self.app.push_screen(MemoryText(f"Remember (a {kind} about {about})", ""), add)

    def action_edit(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        if self._hidden(chosen):
            self.notify("It is sensitive: press v to show it, then edit it.")
            return
        shown = inert(chosen.text, line_breaks=False)

        def edit(text: str | None) -> None:
            # Unchanged: nothing written (the stored text may hold what `shown` drew as symbols).
            if text and text.strip() and text != shown and self._no_secret(text):
                self._write("saving…", lambda c: c.edit_memory(chosen.id, text.strip()))

        self.app.push_screen(
            MemoryText("Correct this memory (history keeps the old text)", shown), edit
        )

    def action_forget(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        words = HIDDEN if self._hidden(chosen) else _one_line(chosen.text, 120)

        def forget(yes: bool | None) -> None:
            if yes:
                self._write("forgetting…", lambda c: c.forget(chosen.id))

        self.app.push_screen(ConfirmForget(f"Forget “{words}” for good?"), forget)

    def _no_secret(self, text: str) -> bool:
        """A secret is never remembered from here (as `hearth memory add` without --secret)."""
        found = secret_kinds(text)
        if found:
            self.notify(
                f"Not remembered: the text holds a secret ({', '.join(found)}).",
                severity="warning",
                timeout=10,
                markup=False,
            )
        return not found

    def _write(self, doing: str, change: MemoryWrite) -> None:
        self.busy = doing
        self._show_info()
        self._write_in_background(change)

    @work(thread=True, exclusive=True, group="memory-screen", exit_on_error=False)
    def _write_in_background(self, write: MemoryWrite) -> None:
        """Writes that embed (add, edit) or rebuild the index (forget), off the UI thread; the
        list is drawn again when they end."""
        keep: str | None = None
        try:
            keep = write(self.conversation)
        except HearthError as exc:
            self.app.call_from_thread(
                self.notify, str(exc), severity="error", timeout=15, markup=False
            )
        except Exception as exc:  # a bug must not leave "saving…" forever
            self.app.call_from_thread(
                self.notify, f"the change failed: {exc}", severity="error", markup=False
            )
        self.app.call_from_thread(self._written, keep)

    def _written(self, keep: str | None) -> None:
        if not self.is_attached:
            return
        self.busy = ""
        self._fill(keep=keep)


class MemoryText(TextDialog):
    """A memory's text, new or corrected; None when the person thought better of it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="memory.text_cancel")]


class ConfirmForget(ConfirmDialog):
    """Asks before a memory is forgotten; nothing but the yes key forgets."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes, forget", id="memory.forget_yes"),
        Binding("n,escape", "answer(False)", "No", id="memory.forget_no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(
            question,
            "It goes from every store: the memory database, its search index and history "
            "(a tombstone without its words stays), and the stored prompts that showed it "
            "to the model. The conversation where it was said keeps its own words.",
        )
