"""The dreams screen: made-up turns from `hearth dream`, each accepted, edited or rejected."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from agent.conversation import Conversation, DreamAction, DreamItem
from agent.display import inert
from memory.errors import HearthError
from tui.widgets.dialogs import TextDialog
from tui.widgets.tables import cursor_key


def _one_line(text: str, width: int) -> str:
    line = inert(text, line_breaks=False)
    return line if len(line) <= width else line[: width - 1] + "…"


class DreamsScreen(Screen[None]):
    """Every dream, oldest first: the scenario, the reply, its review state and the memories
    it drew on; the one highlighted in full below."""

    DEFAULT_CSS = """
    DreamsScreen #dreams-info { height: 1; padding: 0 1; color: $text-muted; }
    DreamsScreen DataTable { height: 1fr; }
    DreamsScreen #dreams-pane { height: 40%; border: round $primary-background; padding: 0 1; }
    """

    BINDINGS = [
        Binding("a", "review('accept')", "Accept", id="dreams.accept"),
        Binding("r", "review('reject')", "Reject", id="dreams.reject"),
        Binding("e", "edit", "Edit reply", id="dreams.edit"),
        Binding("escape", "back", "Back", id="dreams.back"),
    ]

    def __init__(self, conversation: Conversation) -> None:
        super().__init__()
        self.conversation = conversation
        self.rows: dict[str, DreamItem] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="dreams-info", markup=False)
        yield DataTable(id="dreams-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="dreams-pane"):
            yield Static(id="dreams-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("review", "kind", "you (made up)", "reply", "memories"):
            table.add_column(key, key=key)
        self._fill()
        table.focus()

    def _fill(self, keep: int | None = None) -> None:
        try:
            found = self.conversation.dreams()
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        table = self.query_one(DataTable)
        index = table.cursor_row
        self.rows = {str(d.id): d for d in found}
        table.clear()
        for d in found:
            table.add_row(
                d.review,
                d.kind,
                Text(_one_line(d.scenario, 40)),
                Text(_one_line(d.reply, 40)),
                Text(", ".join(d.memory_ids)),
                key=str(d.id),
            )
        if keep is not None and str(keep) in self.rows:
            index = table.get_row_index(str(keep))
        if found:
            table.move_cursor(row=min(index, len(found) - 1), animate=False)
        pending = sum(1 for d in found if d.review == "pending")
        info = (
            f"{len(found)} dream(s), {pending} pending · synthetic: never remembered, "
            "exported only once accepted (hearth export --include-synthetic)"
            if found
            else "No dreams yet: `hearth dream` makes some."
        )
        self.query_one("#dreams-info", Static).update(info)
        self._show_detail()

    def highlighted(self) -> DreamItem | None:
        key = cursor_key(self.query_one(DataTable))
        return self.rows.get(key) if key is not None else None

    @on(DataTable.RowHighlighted)
    def _highlight_moved(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        d = self.highlighted()
        pane = self.query_one("#dreams-detail", Static)
        if d is None:
            pane.update(Text(""))
            return
        lines = [
            f"Dream #{d.id} · {d.kind} · {d.review} · synthetic",
            f"Drew on: {', '.join(d.memory_ids)}",
            f"Recalled for it (not counted): {', '.join(d.recalled_ids) or 'none'}",
            "",
            f"You (made up): {inert(d.scenario)}",
            f"Hearth: {inert(d.reply)}",
        ]
        if d.original_reply is not None:
            lines.append(f"Before your edit: {inert(d.original_reply)}")
        pane.update(Text("\n".join(lines)))

    def action_review(self, action: DreamAction) -> None:
        chosen = self.highlighted()
        if chosen is not None:
            self._apply(chosen.id, action)

    def action_edit(self) -> None:
        chosen = self.highlighted()
        if chosen is None:
            return

        def edit(text: str | None) -> None:
            if text and text.strip() and text.strip() != chosen.reply.strip():
                self._apply(chosen.id, "edit", text)

        self.app.push_screen(TextDialog("The reply as it should be", chosen.reply), edit)

    def _apply(self, dream_id: int, action: DreamAction, text: str | None = None) -> None:
        try:
            done = self.conversation.review_dream(dream_id, action, text)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"Dream #{done.id}: {done.review}.")
        self._fill(keep=dream_id)

    def action_back(self) -> None:
        self.dismiss(None)
