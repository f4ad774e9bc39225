"""Where a client's request goes in the journal: the conversation it resends, found in the tree.

OpenAI-style clients (Open WebUI, SillyTavern, scripts) keep the conversation themselves and
send all of it with every request; they edit and regenerate on their side. Hearth keeps the
conversation too, as a tree (memory/journal/tree.py). A request is read against it: the
longest path of journaled messages it repeats is already there (never journaled twice); its
last message, the person's, is then new (a turn), the same as one already there (a
regeneration: a new reply beside the old) or in place of another one there (an edit: a new
branch). What the client says that Hearth never saw (a conversation begun elsewhere) is
journaled as the client gave it, marked with its source, before the turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from agent.serving.schemas import Said
from memory.journal.journal import Journal
from memory.journal.schemas import Message, MessageMeta, Session

CLIENT_SOURCE = "client"
"""`meta.source` of a message a client sent that Hearth had not journaled (nor answered)."""

RECENT_SESSIONS = 50
"""How many recent sessions a request that names none is looked for in."""


Action = Literal["turn", "regenerate", "edit"]


@dataclass(frozen=True)
class Placement:
    """What to do with a request: a `turn` after `parent_id` (None: the session's first
    message), a `regenerate` of user message `user_id`, or an `edit` (a new branch) of user
    message `user_id` with the request's last message."""

    session: Session
    action: Action
    parent_id: int | None = None
    user_id: int | None = None
    matched: int = 0
    """How many of the request's earlier messages were already journaled."""
    added: int = 0
    """How many earlier messages Hearth had never seen were journaled for it."""


def _same(journaled: Message, sent: Said) -> bool:
    """The client's message is this journaled one: the same words (clients trim and rewrap).
    A reply may also run on past the journaled one: the client kept all it was streamed, the
    journal the reply as it ended (cut back to a sentence's end, or to before a repeat)."""
    if journaled.role != sent.role:
        return False
    ours, theirs = journaled.text.split(), sent.text.split()
    if journaled.role == "assistant" and ours and len(theirs) > len(ours):
        return theirs[: len(ours)] == ours
    return ours == theirs


class _Tree:
    """One session's on-record messages by parent (off-record ones are never matched: what was
    said off the record is not part of any conversation a client resends)."""

    def __init__(self, journal: Journal, session_id: int) -> None:
        self.children: dict[int | None, list[Message]] = defaultdict(list)
        self.by_id: dict[int | None, Message] = {}
        for m in journal.messages(session_id, newest_first=False):
            if not m.off_record and not m.meta.synthetic and m.role != "system":
                self.children[m.parent_id].append(m)
                self.by_id[m.id] = m

    def match(self, parent: int | None, said: list[Said]) -> list[Message]:
        """The longest journaled path under `parent` that repeats the start of `said` (among
        equal ones, the newest: the first found going newest child first).

        Depth first without recursion (a conversation of any length), each node visited at
        most once: many regenerations with the same words cost one visit each, not a search
        of every combination."""
        best: Message | None = None
        depth: dict[int, int] = {}  # a matched message's depth: the number of messages on its path
        # Oldest pushed first, so the newest child is taken first.
        stack = [(child, 0) for child in self.children.get(parent, [])]
        while stack:
            node, at = stack.pop()
            if at >= len(said) or not _same(node, said[at]):
                continue
            depth[node.id] = at + 1
            if best is None or at + 1 > depth[best.id]:
                best = node
            stack.extend((child, at + 1) for child in self.children.get(node.id, []))
        path: list[Message] = []
        while best is not None:
            path.append(best)
            best = self.by_id.get(best.parent_id) if best.parent_id != parent else None
        return path[::-1]

    def latest(self, parent: int | None, role: str) -> Message | None:
        kids = [m for m in self.children.get(parent, []) if m.role == role]
        return kids[-1] if kids else None


def matched(journal: Journal, session: Session | None, history: list[Said]) -> int:
    """How many of `history`'s first messages `session` has journaled (a resent
    conversation's part Hearth already has)."""
    if session is None or not history:
        return 0
    return len(_Tree(journal, session.id).match(None, history))


def find_session(journal: Journal, said: list[Said]) -> Session | None:
    """The recent session a request naming none continues: one that has journaled its earlier
    messages through at least one of Hearth's replies (a reply's words are its own, so a
    match is the same conversation, not two that began with the same "hi")."""
    history = said[:-1]
    if not any(m.role == "assistant" for m in history):
        return None
    best: tuple[int, Session] | None = None
    for session in journal.sessions()[:RECENT_SESSIONS]:
        if session.temporary or session.archived:
            continue
        path = _Tree(journal, session.id).match(None, history)
        if any(m.role == "assistant" for m in path) and (best is None or len(path) > best[0]):
            best = (len(path), session)
            if len(path) == len(history):
                break  # sessions come newest first: the newest full match wins
    return best[1] if best else None


def place(
    journal: Journal,
    session: Session,
    said: list[Said],
    check: Callable[[list[Said]], None] | None = None,
) -> Placement:
    """Journal what the client sent that Hearth had not seen, and say what its last message
    asks for (`said` ends with the person's message). `check` is shown the messages that are
    new (never the resent, matched ones) before anything is written: it may refuse them."""
    if not said or said[-1].role != "user":
        raise ValueError("a request to answer ends with the person's message")
    tree = _Tree(journal, session.id)
    history, last = said[:-1], said[-1]
    path = tree.match(None, history)
    if check is not None:
        check([*history[len(path) :], last])
    parent = path[-1].id if path else None
    for m in path:
        if m.role == "assistant" and tree.latest(m.parent_id, "assistant") != m:
            journal.choose(m.id)  # the client went on from this version of the reply
    added = 0
    for i, new in enumerate(history[len(path) :]):
        # The first message off the journaled path is the client's version of one Hearth has
        # (an edit made there); the rest follow it.
        original = tree.latest(parent, new.role) if i == 0 else None
        if original is not None:
            parent = journal.edit(original.id, new.text).id
            journal.update(parent, meta=MessageMeta(source=CLIENT_SOURCE))
        else:
            meta = MessageMeta(source=CLIENT_SOURCE)
            # No parent: a conversation of its own in the session, not a follower of its head.
            parent = journal.append(
                session.id, new.role, new.text, parent_id=parent, meta=meta, root=parent is None
            ).id
        added += 1
    matched = len(path)
    if added == 0:
        kids = reversed(tree.children.get(parent, []))
        again = next((u for u in kids if _same(u, last)), None)
        if again is not None:
            return Placement(session, "regenerate", parent, again.id, matched)
        other = tree.latest(parent, "user")
        if other is not None:
            return Placement(session, "edit", parent, other.id, matched)
    return Placement(session, "turn", parent, None, matched, added)
