"""The keys screen (f1): Hearth's own keys as they are now, with the ids that remap them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.keys import ACTIONS

INTRO = (
    'Remap any of these in config.toml: [chat.keys] "chat.regenerate" = "f5".  '
    "ctrl+p finds every command by name.  escape or f1 closes this."
)


class HelpScreen(ModalScreen[None]):
    """Given the rows (key, what it does, id) as they are now."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 96%; height: 90%; border: round $primary; padding: 0 1; }
    #help-intro { color: $text-muted; margin-bottom: 1; }
    #help-keys { height: 1fr; }
    """

    def __init__(self, key_rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.key_rows = key_rows

    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help") as box:
            box.border_title = "Hearth's keys"
            yield Static(INTRO, id="help-intro", markup=False)
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "id", "does")
        for key, does, action_id in self.key_rows:
            table.add_row(key, action_id, does)
        table.focus()


def rows(key_for: dict[str, str]) -> list[tuple[str, str, str]]:
    """(key, what it does, id) for each action; a message's own keys say so."""
    out = []
    for a in ACTIONS:
        does = a.help or a.title
        if a.scope == "message":
            does = f"on a selected message: {a.title.lower()}"
        out.append((key_for.get(a.id, "") or "palette", does, a.id))
    return out
