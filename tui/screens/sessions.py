"""The sessions screen: every chat, found by its words, resumed, renamed, archived or deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from agent.conversation import Conversation, SessionItem
from agent.display import inert
from memory.errors import HearthError
from tui.widgets.dialogs import ConfirmDialog, TextDialog
from tui.widgets.tables import cursor_key


class SessionHost(Protocol):
    """What the screen needs of the chat app (tui.app imports this module, never the reverse)."""

    @property
    def session_id(self) -> int | None: ...

    def switch_session(self, session_id: int | None) -> bool: ...


def _one_line(text: str) -> Text:
    # Stored text: its control characters drawn as symbols, its brackets never read as markup.
    return Text(inert(text, line_breaks=False))


class SessionsScreen(Screen[None]):
    """Every session, newest first (archived ones when asked); the search filters as typed."""

    DEFAULT_CSS = """
    SessionsScreen #sessions-search { border: round $primary; }
    SessionsScreen DataTable { height: 1fr; }
    SessionsScreen #sessions-info { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        # Priority: enter in the search resumes the session it found, as enter in the list does.
        Binding("enter", "resume", "Resume", priority=True, id="sessions.resume"),
        Binding("r", "rename", "Rename", id="sessions.rename"),
        Binding("a", "archive", "Archive", id="sessions.archive"),
        Binding("d", "delete", "Delete", id="sessions.delete"),
        Binding("t", "toggle_archived", "Show archived", id="sessions.show_archived"),
        Binding("slash", "search", "Search", id="sessions.search"),
        Binding("down", "list", "To the list", show=False, id="sessions.list"),
        Binding("escape", "back", "Back", id="sessions.back"),
    ]

    def __init__(self, host: SessionHost, conversation: Conversation) -> None:
        super().__init__()
        self.host = host
        self.conversation = conversation
        self.show_archived = False
        self.rows: dict[int, SessionItem] = {}

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="Search sessions… (/ searches, down goes to the list)", id="sessions-search"
        )
        yield DataTable(id="sessions-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="sessions-info", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="mark")
        table.add_column("title", key="title")
        table.add_column("updated", key="updated")
        table.add_column("messages", key="messages")
        self._fill(keep=self.host.session_id)
        table.focus()

    # -- the list -----------------------------------------------------------------------

    def _fill(self, keep: int | None = None) -> None:
        """List what the search finds; the cursor stays on `keep` (default: the highlighted
        session) or, when that went, on the row that took its place."""
        table = self.query_one(DataTable)
        chosen = self._highlighted()
        keep = keep if keep is not None else (chosen.id if chosen else None)
        index = table.cursor_row
        words = self.query_one("#sessions-search", Input).value
        try:
            found = self.conversation.sessions(words, self.show_archived)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.rows = {s.id: s for s in found}
        table.clear()
        for s in found:
            marks = [
                "current" if s.id == self.host.session_id else "",
                "archived" if s.archived else "",
            ]
            table.add_row(
                " · ".join(m for m in marks if m),
                _one_line(s.display_title),
                s.updated_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                Text(str(s.messages), justify="right"),
                key=str(s.id),
            )
        if keep in self.rows:
            index = table.get_row_index(str(keep))
        if found:
            table.move_cursor(row=min(index, len(found) - 1), animate=False)
        self._show_info(words, len(found))

    def _show_info(self, words: str, count: int) -> None:
        if count:
            line = f"{count} session{'s' if count != 1 else ''}"
        else:
            line = "No session has those words." if words.strip() else "No sessions yet."
        if self.show_archived:
            line += " · archived shown"
        self.query_one("#sessions-info", Static).update(line)

    def _highlighted(self) -> SessionItem | None:
        key = cursor_key(self.query_one(DataTable))
        return self.rows.get(int(key)) if key is not None else None

    def _write(self, change: Callable[[], object]) -> bool:
        """Change the sessions and list them again; a failed write (a full disk) is shown."""
        try:
            change()
        except HearthError as exc:
            self.notify(str(exc), severity="error", timeout=15, markup=False)
            return False
        finally:
            self._fill()
        return True

    # -- actions ------------------------------------------------------------------------

    @on(Input.Changed, "#sessions-search")
    def _search(self) -> None:
        self._fill()

    @on(DataTable.RowSelected)
    def _clicked(self) -> None:
        self.action_resume()

    def action_resume(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        # The session open now is only gone back to: leaving it would purge what was said in
        # it off the record.
        if chosen.id == self.host.session_id or self.host.switch_session(chosen.id):
            self.dismiss()

    def action_rename(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        shown = inert(chosen.display_title, line_breaks=False)

        def rename(title: str | None) -> None:
            # Unchanged: nothing is written (the stored title may hold what `shown` drew as
            # symbols, and a derived title stays derived).
            if title is not None and title != shown:
                self._write(lambda: self.conversation.rename_session(chosen.id, title))

        self.app.push_screen(RenameSession(shown), rename)

    def action_archive(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        archived = not chosen.archived
        if self._write(lambda: self.conversation.archive_session(chosen.id, archived)):
            verb = "Archived" if archived else "Brought back"
            self.notify(f"{verb} “{inert(chosen.display_title, line_breaks=False)}”.", markup=False)

    def action_delete(self) -> None:
        chosen = self._highlighted()
        if chosen is None:
            return
        n = chosen.messages
        question = (
            f"Delete “{inert(chosen.display_title, line_breaks=False)}” and its "
            f"{n} message{'s' if n != 1 else ''} for good?"
        )

        def delete(yes: bool | None) -> None:
            if not yes:
                return
            # The chat leaves a session before it goes; while a reply is written it cannot.
            if chosen.id == self.host.session_id and not self.host.switch_session(None):
                return
            self._write(lambda: self.conversation.delete_session(chosen.id))

        self.app.push_screen(ConfirmDelete(question), delete)

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self._fill()

    def action_search(self) -> None:
        self.query_one("#sessions-search", Input).focus()

    def action_list(self) -> None:
        self.query_one(DataTable).focus()

    def action_back(self) -> None:
        self.dismiss()


class RenameSession(TextDialog):
    """The session's new name, or None when the person thought better of it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sessions.rename_cancel")]

    def __init__(self, title: str) -> None:
        super().__init__("Rename this session (empty: named by how it began)", title)


class ConfirmDelete(ConfirmDialog):
    """Asks before a session is deleted; nothing but the yes key deletes."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes, delete", id="sessions.delete_yes"),
        Binding("n,escape", "answer(False)", "No", id="sessions.delete_no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(
            question,
            "Its messages are gone from the journal. What Hearth remembers from it, and "
            "files already exported, are kept.",
        )
