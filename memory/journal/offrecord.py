"""Off the record: a session's messages as they read with every off-record one taken out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from memory.journal.schemas import ChatMessage, Message


def nearest_on_record(message_id: int | None, by_id: Mapping[int, Message]) -> int | None:
    """The message itself if it is on the record, else its closest ancestor that is (None when
    there is none): where a child of a purged message is re-linked."""
    while message_id is not None:
        found = by_id.get(message_id)
        if found is None or not found.off_record:
            return message_id
        message_id = found.parent_id
    return None


def _shown(message: Message) -> str:
    # What a later prompt showed of the message (agent.context.shown, which memory cannot import).
    shown_as = message.meta.shown_as
    return shown_as if shown_as is not None else message.text


def scrub_prompt(prompt: Sequence[ChatMessage], ancestors: Sequence[Message]) -> list[ChatMessage]:
    """A stored prompt without the off-record messages it showed (journals from before the mark
    existed stored them in the prompts of later on-record replies).

    `ancestors`: the path above the reply, nearest first. The prompt's entries are matched to
    them from its end, by position and content, not by content alone: short replies repeat
    ("Okay."), and only the ones said off the record go. Its last entry is the reply's own
    message (possibly shortened to fit); an ancestor the prompt did not show (a failed or empty
    reply, a trimmed one) is passed over.
    """
    entries = list(prompt)
    drop: set[int] = set()
    i, a = len(entries) - 1, 0
    while i >= 0 and a < len(ancestors):
        entry, above = entries[i], ancestors[a]
        if i == 0 and entry.role == "system":
            break
        last = i == len(entries) - 1
        if last or (entry.role == above.role and entry.content in (_shown(above), above.text)):
            if above.off_record:
                drop.add(i)
            i -= 1
        a += 1
    return [entry for n, entry in enumerate(entries) if n not in drop]


def ancestors(message: Message, by_id: Mapping[int, Message]) -> list[Message]:
    """The path above this message, nearest first."""
    found: list[Message] = []
    parent = message.parent_id
    while parent is not None and parent in by_id:
        found.append(by_id[parent])
        parent = by_id[parent].parent_id
    return found


def on_record(messages: Sequence[Message]) -> list[Message]:
    """One session's on-record messages: each re-linked to its nearest on-record ancestor, and
    each stored prompt without what it showed of off-record ones. Nothing is written."""
    by_id = {m.id: m for m in messages}
    kept: list[Message] = []
    for m in messages:
        if m.off_record:
            continue
        update: dict[str, object] = {}
        parent = nearest_on_record(m.parent_id, by_id)
        if parent != m.parent_id:
            update["parent_id"] = parent
        above = ancestors(m, by_id)
        if m.prompt is not None and any(x.off_record for x in above):
            scrubbed = scrub_prompt(m.prompt, above)
            if len(scrubbed) != len(m.prompt):
                update["prompt"] = scrubbed
        kept.append(m.model_copy(update=update) if update else m)
    return kept
