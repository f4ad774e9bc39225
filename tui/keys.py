"""Hearth's own actions in one table: the bindings, the palette, the help screen and the
`chat.keys` setting all read it, so a key shown anywhere is the key that works."""

from __future__ import annotations

from typing import Literal, NamedTuple

from textual.binding import Binding, BindingType

Scope = Literal["chat", "message"]


class Action(NamedTuple):
    id: str
    """What `[chat.keys]` in config.toml names to remap it."""
    key: str
    action: str
    title: str
    help: str
    scope: Scope = "chat"
    show: bool = False
    """In the footer (the few a newcomer needs; f1 lists the rest)."""
    short: str = ""
    """The footer's word for it, where the title is too long for 80 columns."""


ACTIONS: list[Action] = [
    Action(
        "chat.stop",
        "escape",
        "stop",
        "Stop",
        "Stop the reply; the words so far stay",
        show=True,
    ),
    Action(
        "chat.new",
        "ctrl+n",
        "new_session",
        "New session",
        "Start a new session",
        show=True,
        short="New",
    ),
    Action(
        "chat.memory",
        "ctrl+t",
        "toggle_memory",
        "Memory",
        "Off the record: nothing recalled or remembered, deleted when you leave",
        show=True,
    ),
    Action(
        "chat.sessions",
        "ctrl+s",
        "sessions",
        "Sessions",
        "Every session: resume, rename, archive, delete, search",
        show=True,
    ),
    Action(
        "chat.memory_panel",
        "ctrl+b",
        "toggle_panel",
        "Memory panel",
        "What the selected (else the last) reply recalled and remembered: pin, edit, reject",
        show=True,
        short="Panel",
    ),
    Action(
        "chat.memory_screen",
        "ctrl+g",
        "memory_screen",
        "Memories",
        "Browse, search and fix what Hearth remembers",
        show=False,
    ),
    Action(
        "chat.dreams",
        "f3",
        "dreams",
        "Dreams",
        "Review made-up turns from `hearth dream`: accept, edit or reject each",
        show=False,
    ),
    Action(
        "app.help", "f1", "help", "Keys", "Every Hearth key, and its id for remapping", show=True
    ),
    Action(
        "chat.regenerate",
        "ctrl+r",
        "regenerate",
        "Regenerate reply",
        "Another version of the selected reply (else the last); every version is kept",
    ),
    Action(
        "chat.previous_version",
        "alt+left",
        "version(-1)",
        "Previous version",
        "Show the previous version of the selected message (else the last reply)",
    ),
    Action(
        "chat.next_version",
        "alt+right",
        "version(1)",
        "Next version",
        "Show the next version of the selected message (else the last reply)",
    ),
    Action(
        "chat.edit",
        "f2",
        "edit",
        "Edit message",
        "Edit the selected message (else your last); yours is answered again on a new branch",
    ),
    Action(
        "chat.select_previous",
        "alt+up",
        "select(-1)",
        "Select previous message",
        "Move the selection up the chat (its keys then act on that message)",
    ),
    Action(
        "chat.select_next",
        "alt+down",
        "select(1)",
        "Select next message",
        "Move the selection down the chat; past the last one, back to the input",
    ),
    Action(
        "chat.editor",
        "ctrl+o",
        "open_editor",
        "Open in editor",
        "Write the message in your editor ($VISUAL, $EDITOR or chat.editor)",
    ),
    Action(
        "chat.thumbs_up", "", "rate(1)", "Thumbs up", "Rate the selected reply (else the last) up"
    ),
    Action(
        "chat.thumbs_down",
        "",
        "rate(-1)",
        "Thumbs down",
        "Rate the selected reply (else the last) down",
    ),
    Action(
        "chat.note", "", "note", "Note on reply", "Say why a reply is good or bad (kept with it)"
    ),
    Action(
        "chat.copy",
        "",
        "copy_message",
        "Copy message",
        "Copy the selected message (else the last reply)",
    ),
    Action(
        "chat.copy_code",
        "",
        "copy_code",
        "Copy code",
        "Copy the code blocks of the selected message",
    ),
    Action(
        "message.previous_version", "left", "app.version(-1)", "Previous version", "", "message"
    ),
    Action("message.next_version", "right", "app.version(1)", "Next version", "", "message"),
    Action("message.regenerate", "r", "app.regenerate", "Regenerate", "", "message"),
    Action("message.edit", "e", "app.edit", "Edit", "", "message"),
    Action("message.thumbs_up", "plus", "app.rate(1)", "Thumbs up", "", "message"),
    Action("message.thumbs_down", "minus", "app.rate(-1)", "Thumbs down", "", "message"),
    Action("message.note", "n", "app.note", "Note", "", "message"),
    Action("message.copy", "c", "app.copy_message", "Copy", "", "message"),
    Action("message.copy_code", "b", "app.copy_code", "Copy code", "", "message"),
    Action("message.back", "escape", "app.focus_input", "Back to the input", "", "message"),
]
"""A key of "" is reached from the palette (ctrl+p) and, on a selected message, by its own key."""

EXTRA_IDS = {"chat.newline", "chat.stop_alt", "app.quit"}
"""Ids of bindings declared elsewhere (the input's newline, ctrl+c, ctrl+q)."""


def bindings(scope: Scope) -> list[BindingType]:
    return [
        Binding(a.key, a.action, a.short or a.title, show=a.show, id=a.id)
        for a in ACTIONS
        if a.scope == scope and a.key
    ]


def with_custom(defaults: dict[str, str], custom: dict[str, str]) -> dict[str, str]:
    """The person's keys over the defaults: a key they give one action is taken from any other
    action that had it by default (a new default never steals a key someone already chose)."""
    chosen = {k.strip() for key in custom.values() for k in key.split(",") if k.strip()}
    keys = {
        i: ",".join(k for k in key.split(",") if k.strip() not in chosen)
        for i, key in defaults.items()
    }
    keys.update(custom)
    return keys


def known_ids() -> set[str]:
    return {a.id for a in ACTIONS} | EXTRA_IDS
