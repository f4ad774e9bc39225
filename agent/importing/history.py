"""Another app's conversations journaled as history: the person's messages through the write
path, the other model's replies as replies it wrote, versions and branches as in the chat."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from agent.importing.conversations import CachedEmbedder, batches, made_memories, prime
from agent.importing.plan import ImportOptions, Summary, extracted, remembered, said
from agent.importing.threads import Node, Thread
from agent.learn.person import person_name
from agent.learn.write_path import remember
from memory.graph.nodes import NewMemory
from memory.journal.schemas import ImportedFrom, Message, MessageMeta

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal

Made = set[tuple[str, tuple[int, ...]]]


class ImportedThread(BaseModel):
    """Where one conversation went."""

    conversation: str
    title: str
    session_id: int
    added: int
    """Messages journaled by this run (0: all were there from an earlier one)."""
    remembered: int
    """The person's messages the write path ran on in this run."""


class ThreadsReport(Summary):
    """What `hearth import` did with another app's export."""

    imported: list[ImportedThread] = Field(default_factory=list)
    added: int = 0
    """Messages journaled by this run."""
    made: int = 0
    """Memories added or changed by this run."""


class _Conversation:
    """One conversation's messages in the journal, by their id in the export."""

    def __init__(
        self, journal: Journal, thread: Thread, known: dict[str, Message], empty: dict[str, int]
    ) -> None:
        self.journal = journal
        self.empty = empty
        self.thread = thread
        self.ids = {k: m.id for k, m in known.items()}
        self.session_id = next(iter(known.values())).session_id if known else None
        # The versions under each message, as far as this import knows them (messages the
        # person added in the chat since are no version of the export's).
        self.children: dict[int | None, list[tuple[int, str]]] = {}
        for m in sorted(known.values(), key=lambda m: m.id):
            self.children.setdefault(m.parent_id, []).append((m.id, m.role))

    def session(self) -> int:
        if self.session_id is None:
            # An empty session of its title is where an earlier run stopped before its first
            # message.
            found = self.empty.pop(self.thread.title, None) if self.thread.title else None
            self.session_id = found or self.journal.create_session(title=self.thread.title).id
        return self.session_id

    def add(self, node: Node, user_name: str) -> int:
        parent = self.ids[node.parent] if node.parent is not None else None
        siblings = [i for i, role in self.children.get(parent, []) if role == node.role]
        meta = MessageMeta(
            imported=ImportedFrom(
                format=self.thread.format,
                conversation=self.thread.id,
                message=node.id,
                model=node.model if node.role == "assistant" else None,
                parallel=node.parallel,
            ),
            # A second version of the person's message is an edit of the one before: a branch,
            # as `hearth edit` makes (the kept one comes last, so it is the current version).
            **({"edit_of": siblings[-1]} if node.role == "user" and siblings else {}),
        )
        # A reply is signed by the model that wrote it, else by the app (Claude names none).
        other = node.model or self.thread.format
        speaker = node.speaker or (user_name if node.role == "user" else other)
        message = self.journal.append(
            self.session(),
            node.role,
            node.text,
            parent_id=parent,
            root=parent is None,
            speaker=speaker,
            created_at=node.time,
            meta=meta,
        )
        self.ids[node.id] = message.id
        self.children.setdefault(parent, []).append((message.id, node.role))
        return message.id

    def keep(self) -> None:
        """The export's kept path as kept: its replies chosen where a later version exists,
        its last message the session's head."""
        path = self.thread.kept()
        for node in path:
            if node.role != "assistant" or node.parent is None:
                continue
            me, parent = self.ids[node.id], self.ids[node.parent]
            versions = [i for i, role in self.children.get(parent, []) if role == "assistant"]
            if len(versions) > 1 and max(versions) != me:
                self.journal.choose(me)
        if path and self.session_id is not None:
            leaf = self.ids[path[-1].id]
            if self.journal.session(self.session_id).head_id != leaf:
                self.journal.set_head(self.session_id, leaf)


def import_threads(
    journal: Journal,
    store: MemoryStore | None,
    threads: Sequence[Thread],
    summary: Summary,
    options: ImportOptions,
    *,
    advance: Callable[[int], None] = lambda n: None,
) -> ThreadsReport:
    """Journal every message not journaled before (by its identity in the export), then run
    the write path on the person's kept messages not yet remembered (none without `store`).
    Each step is committed as it goes, so a re-run after a kill ends where one run would."""
    report = ThreadsReport(**summary.model_dump())
    known: dict[tuple[str, str], Message] = {}
    if threads:
        for m in journal.imported_messages(threads[0].format):
            if m.meta.imported is not None:
                known[(m.meta.imported.conversation, m.meta.imported.message)] = m
    made: Made | None = None
    empty = {
        s.title: s.id
        for s in journal.session_summaries(include_archived=True)
        if s.messages == 0 and s.title
    }
    by_thread: dict[str, dict[str, Message]] = {}
    for (conversation_id, message_id), m in known.items():
        by_thread.setdefault(conversation_id, {})[message_id] = m
    for thread in threads:
        mine = by_thread.get(thread.id, {})
        conversation = _Conversation(journal, thread, mine, empty)
        added = 0
        for node in thread.ordered():
            if node.id not in conversation.ids:
                conversation.add(node, options.user_name)
                added += 1
            advance(1)
        conversation.keep()  # also after a run killed between its messages and this
        done = 0
        if store is not None and options.remember:
            todo = [n for n in remembered(thread) if not _was_remembered(mine.get(n.id))]
            if todo and made is None and mine:
                made = made_memories(store)  # a resumed run: skip memories an earlier one made
            done, changed = _remember(journal, store, conversation.ids, todo, options, made)
            report.made += changed
        report.added += added
        if conversation.session_id is not None:
            report.imported.append(
                ImportedThread(
                    conversation=thread.id,
                    title=thread.title,
                    session_id=conversation.session_id,
                    added=added,
                    remembered=done,
                )
            )
    if store is not None and options.include_instructions and summary.instructions:
        report.made += _instructions(store, summary.instructions, summary.format)
    return report


def _was_remembered(message: Message | None) -> bool:
    return message is not None and message.meta.remembered


def _remember(
    journal: Journal,
    store: MemoryStore,
    ids: dict[str, int],
    nodes: Sequence[Node],
    options: ImportOptions,
    made: Made | None,
) -> tuple[int, int]:
    """The write path on each of the person's messages, and each remembered as itself; each
    marked remembered once its memories are committed."""
    speaker = person_name(store, options.user_name) or options.user_name
    built = {n.id: said(n, speaker, ids[n.id]) for n in nodes}
    if made:
        built = {
            k: [m for m in v if (m.text, tuple(m.provenance)) not in made] for k, v in built.items()
        }
    texts = [m.text for v in built.values() for m in v]
    texts += [t for n in nodes for t in extracted(n, speaker)]
    if isinstance(store.embedder, CachedEmbedder):
        prime(store, texts)
    changed = 0
    # A batch of messages a unit of work: one transaction (and one index sync) in the memory,
    # then one in the journal marking them remembered.
    for batch in batches(nodes):
        with store.unit():
            for node in batch:
                actions = remember(
                    store,
                    node.text,
                    message_id=ids[node.id],
                    speaker=speaker,
                    when=node.time or journal.message(ids[node.id]).created_at,
                    user_speaker=speaker,
                    actor="import",
                )
                changed += sum(1 for a in actions if a.action != "noop")
                if built[node.id]:
                    changed += len(store.add_many(built[node.id], actor="import"))
        with journal.unit():
            for node in batch:
                journal.update(ids[node.id], meta={"remembered": True})
    if isinstance(store.embedder, CachedEmbedder):
        store.embedder.clear()
    return len(nodes), changed


def _instructions(store: MemoryStore, texts: list[str], format: str) -> int:
    """The person's custom instructions as one memory to review (not again on a re-run)."""
    text = f"What I told {format} about myself and how to answer:\n" + "\n\n".join(texts)
    if any(m.text == text for m in store.list(valid_only=False)):
        return 0
    store.add_many([NewMemory(text=text, kind="preference", subject="user")], actor="import")
    return 1
