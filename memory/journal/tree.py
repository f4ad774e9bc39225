"""One session's messages as the tree they form: versions, the kept reply, and branches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from memory.journal.schemas import Message


class ConversationTree:
    """Regenerations and edits are siblings (same parent); a user edit starts a branch.

    The kept reply to a user message is the one chosen (`Journal.choose`), else the latest: the
    one a chat goes on from. An edited reply stands in for its original wherever the original
    was followed up; a user message that was edited is superseded by its edit.
    """

    def __init__(self, messages: Sequence[Message], choices: dict[int, int]) -> None:
        self.by_id = {m.id: m for m in messages}
        self.children: dict[int | None, list[Message]] = defaultdict(list)
        for m in sorted(messages, key=lambda m: m.id):
            self.children[m.parent_id].append(m)
        self._choices = choices
        self.superseded = {
            m.meta.edit_of for m in messages if m.role == "user" and m.meta.edit_of is not None
        }

    def replies(self, user_id: int) -> list[Message]:
        """Every reply to a user message, oldest first."""
        return [m for m in self.children.get(user_id, []) if m.role == "assistant"]

    def kept(self, user_id: int) -> Message | None:
        """The reply kept for a user message: the chosen one, else the latest."""
        replies = self.replies(user_id)
        chosen = self._choices.get(user_id)
        for m in replies:
            if m.id == chosen:
                return m
        return replies[-1] if replies else None

    def is_kept(self, message: Message) -> bool:
        if message.role != "assistant" or message.parent_id is None:
            return False
        kept = self.kept(message.parent_id)
        return kept is not None and kept.id == message.id

    def explicitly_chosen(self, user_id: int) -> bool:
        return user_id in self._choices

    def path(self, message: Message) -> list[Message]:
        """The conversation from its first message down to this one."""
        out = [message]
        while out[-1].parent_id is not None and out[-1].parent_id in self.by_id:
            out.append(self.by_id[out[-1].parent_id])
        return out[::-1]

    def current(self, message: Message) -> Message | None:
        """The version of a message the user keeps: itself, its kept edit, or None (abandoned)."""
        if message.role != "assistant":
            return None if message.id in self.superseded else message
        if message.parent_id is None:
            return message
        kept = self.kept(message.parent_id)
        version = kept
        while version is not None and version.id != message.id:
            original = version.meta.edit_of
            version = self.by_id.get(original) if original is not None else None
        return kept if version is not None else None

    def conversations(self) -> list[list[Message]]:
        """Each branch as the user finally has it: kept replies (edits in place), no superseded
        user messages.

        A branch runs from a first message to one nothing follows; a branch through a reply
        not kept (and not edited into the kept one) or through a user message since edited was
        abandoned and is left out. A branch that is the start of another is left out too.
        """
        branches: list[list[Message]] = []
        for leaf in sorted(self.by_id.values(), key=lambda m: m.id):
            if self.children.get(leaf.id):
                continue
            versions = [self.current(m) for m in self.path(leaf)]
            if all(v is not None for v in versions):
                branches.append([v for v in versions if v is not None])
        ids = [[m.id for m in b] for b in branches]
        return [
            b
            for b, own in zip(branches, ids, strict=True)
            if not any(len(other) > len(own) and other[: len(own)] == own for other in ids)
        ]
