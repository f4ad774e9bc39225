"""Actions on messages: regenerate, versions, edit, note, rate, copy, and moving the selection."""

from __future__ import annotations

from memory.errors import HearthError
from tui.chat.host import ChatHost, Job
from tui.widgets.chat_input import ChatInput
from tui.widgets.messages import MessageView, code_blocks


class MessageActions(ChatHost):
    """What the person does to a message: the selected one, else the last of its kind."""

    # -- the branch on screen -----------------------------------------------------------

    def show_path(self, head: int | None) -> int:
        """Show the conversation ending at `head` (None: the session's head), keeping the views
        it shares with what is on screen; how many messages it has."""
        if self.session_id is None:
            return 0
        conversation = self.conversation
        self.view_head = (
            None if head is None or head == conversation.head(self.session_id) else head
        )
        thread = conversation.thread(self.session_id, head)
        chat = self.log_view
        chat.show(thread)
        chat.mark_versions(conversation.versions(self.session_id))
        chat.scroll_end(animate=False)
        return len(thread)

    def go_on(self) -> None:
        """The person goes on from what is on screen: it becomes the session's head, and a
        reply they swiped to or regenerated is recorded as chosen over its other versions."""
        if self.session_id is None:
            return
        head = self.view_head or self.conversation.head(self.session_id)
        if head is None:
            return
        self.conversation.go_on(self.session_id, head, set(self.browsed))
        self.view_head = None
        self.browsed.clear()

    def reset_view(self) -> None:
        self.view_head = None
        self.browsed.clear()
        if self.input_mode is not None:
            self.end_input_mode()

    # -- the input holding an edit or a note --------------------------------------------

    def start_input_mode(self, mode: str, message_id: int, text: str, title: str) -> None:
        chat_input = self.query_one(ChatInput)
        self.input_mode = (mode, message_id)
        self.refresh_bindings()
        chat_input.border_title = title
        chat_input.load_text(text)
        chat_input.move_cursor(chat_input.document.end)
        chat_input.focus()

    def end_input_mode(self) -> None:
        chat_input = self.query_one(ChatInput)
        self.input_mode = None
        self.refresh_bindings()
        chat_input.border_title = None
        chat_input.clear()

    def save_edit(self, message_id: int, text: str) -> None:
        """A user message's edit branches the chat and is answered; a reply's is kept as the
        better version of it."""
        try:
            edited = self.conversation.edit(message_id, text)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.browsed.clear()
        self.show_path(None)
        if edited.role == "user":
            for view in self.log_view.views():
                if view.message_id == edited.id:
                    view.remove()  # shown again with its answer, from the journal
            self.show_path(edited.id)
            self.pending.appendleft(Job(user_id=edited.id))
            self.next_turn()

    def save_note(self, message_id: int, text: str) -> None:
        try:
            self.conversation.note(message_id, text)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify("Note kept with the reply.")

    # -- the actions --------------------------------------------------------------------

    def message_action_allowed(self, action: str) -> bool:
        """Actions on messages need a model, no reply being written, and a message to act on."""
        busy = self.generating or not self.opened
        chat = self.log_view
        if action in ("regenerate", "edit"):
            role = "assistant" if action == "regenerate" else "user"
            return not busy and chat.target(self.focused, role) is not None
        if action == "version":
            return not busy and chat.version_target(self.focused) is not None
        return chat.target(self.focused, "assistant") is not None  # rate, note, copy

    def action_regenerate(self) -> None:
        """Another version of the selected (else the last) reply; all of them are kept."""
        view = self.log_view.target(self.focused, "assistant")
        if view is None or view.message_id is None or self.generating or self.session_id is None:
            return
        user_id = self.conversation.parent_of(view.message_id)
        if user_id is None:
            return
        self.browsed.add(user_id)
        self.show_path(user_id)  # the chat up to the message the new version answers
        self.pending.appendleft(Job(user_id=user_id))
        self.next_turn()

    def action_version(self, step: int) -> None:
        """Show the previous or next version of a message, and the conversation that went on
        from it; nothing is recorded until the person goes on."""
        view = self.log_view.version_target(self.focused)
        if view is None or view.version is None or view.message_id is None or self.generating:
            return
        which, total = view.version
        ids = self.conversation.versions(self.session_id or 0).get(view.message_id, [])
        if not ids:
            return
        target = ids[(which - 1 + step) % total]
        parent = self.conversation.parent_of(target)
        if parent is not None:
            self.browsed.add(parent)
        was_focused = self.focused is view
        self.show_path(self.conversation.latest_leaf(target))
        if was_focused:
            found = self.log_view.view_with(target)
            if found is not None:
                found.focus()

    def action_edit(self) -> None:
        """Edit the selected message (else your last) in the input; enter saves it beside the
        original, escape cancels."""
        chat = self.log_view
        selected = isinstance(self.focused, MessageView)
        view = chat.target(self.focused) if selected else chat.target(self.focused, "user")
        if view is None or view.message_id is None or self.generating:
            return
        self.start_input_mode(
            "edit", view.message_id, view.text, "editing · enter saves, escape cancels"
        )

    def action_note(self) -> None:
        view = self.log_view.target(self.focused, "assistant")
        if view is None or view.message_id is None:
            return
        self.start_input_mode(
            "note",
            view.message_id,
            self.conversation.note_of(view.message_id) or "",
            "a note on this reply · enter saves",
        )

    def action_rate(self, rating: int) -> None:
        """Thumbs up or down on the selected (else the last) reply; the same again clears it."""
        view = self.log_view.target(self.focused, "assistant")
        if view is None or view.message_id is None:
            return
        new = 0 if view.rating == rating else rating
        try:
            self.conversation.rate(view.message_id, new)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        view.set_rating(new)

    def _copy_target(self) -> MessageView | None:
        chat = self.log_view
        if isinstance(self.focused, MessageView):
            return chat.target(self.focused)
        return chat.target(self.focused, "assistant")

    def action_copy_message(self) -> None:
        view = self._copy_target()
        if view is not None:
            self.copy_to_clipboard(view.text)
            self.notify("Copied the message.")

    def action_copy_code(self) -> None:
        view = self._copy_target()
        blocks = code_blocks(view.text) if view is not None else []
        if not blocks:
            self.notify("No code block in that message.")
            return
        self.copy_to_clipboard("\n".join(blocks))
        self.notify(f"Copied {len(blocks)} code block{'s' if len(blocks) > 1 else ''}.")

    def action_select(self, step: int) -> None:
        """Move the selection through the chat's messages; past the last, back to the input."""
        views = [v for v in self.log_view.views() if v.message_id is not None]
        if not views:
            return
        focused = self.focused
        if isinstance(focused, MessageView) and focused in views:
            index = views.index(focused) + step
        else:
            index = len(views) - 1 if step < 0 else len(views)
        if index >= len(views):
            self.action_focus_input()
            self.show_memory_for(self.log_view.last_reply_id())
            return
        chosen = views[max(index, 0)]
        chosen.focus()
        chosen.scroll_visible(animate=False)
        if chosen.role == "assistant":
            self.show_memory_for(chosen.message_id)  # an open panel follows the selection

    def action_focus_input(self) -> None:
        self.query_one(ChatInput).focus()
