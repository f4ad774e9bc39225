"""The one shape every app's export is read into: conversations as trees of messages."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from memory.errors import DatasetError

Role = Literal["user", "assistant"]
REFUSED = "; nothing was imported (see `hearth import --help`)"


@dataclass
class Node:
    """One message as the export has it. `skip` names why it is left out (hidden, a system
    message, a tool's output, an unknown content type): it is counted, and what follows it
    hangs on the message before it."""

    id: str
    parent: str | None
    role: Role
    text: str
    time: datetime | None = None
    model: str | None = None
    """On a reply: the model that wrote it, where the export names one."""
    speaker: str | None = None
    """Who said it where the export names several (a group chat's characters); None: the
    person, or the model."""
    skip: str | None = None
    parallel: bool = False
    """One of several models' answers to one message, asked at once (not a regeneration)."""


@dataclass
class Thread:
    """One conversation of an export: its messages as a tree, and which path was kept."""

    format: str
    id: str
    title: str
    file: str
    """How errors name the file it came from."""
    nodes: list[Node]
    current: str | None = None
    """The kept path's last message (None: the newest leaf)."""
    created: datetime | None = None
    skipped: Counter[str] = field(default_factory=Counter)
    instructions: list[str] = field(default_factory=list)
    """The person's custom instructions for the other app (never a message)."""

    def refuse(self, message: str | None, what: str) -> DatasetError:
        where = f"{self.file}: conversation {self.id}"
        where += f", message {message}" if message is not None else ""
        return DatasetError(f"{where}: {what}{REFUSED}")

    @property
    def by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    def kept(self) -> list[Node]:
        """The kept path, first message first."""
        by_id = self.by_id
        leaf = by_id.get(self.current or "")
        if leaf is None:
            parents = {n.parent for n in self.nodes}
            leaves = [n for n in self.nodes if n.id not in parents]
            if not leaves:
                return []
            leaf = max(leaves, key=lambda n: n.time or datetime.min.replace(tzinfo=UTC))
        path = [leaf]
        while path[-1].parent is not None:
            path.append(by_id[path[-1].parent])
        return path[::-1]

    def ordered(self) -> list[Node]:
        """Every message, parents first; of siblings the ones not kept first, so the kept path
        is journaled last and each kept version is the latest of its siblings."""
        kept = {n.id for n in self.kept()}
        children: dict[str | None, list[Node]] = {}
        for n in self.nodes:
            children.setdefault(n.parent, []).append(n)
        out: list[Node] = []
        stack = list(reversed(sorted(children.get(None, []), key=lambda n: n.id in kept)))
        while stack:
            node = stack.pop()
            out.append(node)
            below = sorted(children.get(node.id, []), key=lambda n: n.id in kept)
            stack.extend(reversed(below))
        return out

    @property
    def last_time(self) -> datetime | None:
        times = [n.time for n in self.nodes if n.time is not None]
        return max(times) if times else self.created


def finish(thread: Thread, *, merge_replies: bool = False) -> Thread:
    """Check the tree (every parent named exists, no cycle, no id twice), then leave out the
    skipped messages (counted) and, with `merge_replies`, fold consecutive replies into one
    (a model's turn split over tool calls). Raises DatasetError naming what is broken."""
    _check(thread)
    by_id = thread.by_id
    gone = {n.id for n in thread.nodes if n.skip is not None}
    thread.skipped.update(n.skip for n in thread.nodes if n.skip)

    def shown(parent: str | None) -> str | None:
        while parent is not None and parent in gone:
            parent = by_id[parent].parent
        return parent

    kept_ids = {n.id for n in thread.kept()}
    current = shown(thread.current) if thread.current in gone else thread.current
    nodes = [n for n in thread.nodes if n.id not in gone]
    for n in nodes:
        n.parent = shown(n.parent)
        _fill_time(n, by_id, thread.created)
    if merge_replies:
        nodes, current = _merge(nodes, current, kept_ids)
    thread.nodes, thread.current = nodes, current
    return thread


def _fill_time(node: Node, by_id: dict[str, Node], default: datetime | None) -> None:
    # A message without a time takes its parent's, else the conversation's.
    parent = by_id.get(node.parent or "")
    while node.time is None and parent is not None:
        node.time = parent.time
        parent = by_id.get(parent.parent or "")
    if node.time is None:
        node.time = default


def _merge(
    nodes: list[Node], current: str | None, kept_ids: set[str]
) -> tuple[list[Node], str | None]:
    by_id = {n.id: n for n in nodes}
    children: dict[str | None, list[Node]] = {}
    for n in nodes:
        children.setdefault(n.parent, []).append(n)
    absorbed: set[str] = set()
    for n in _parents_first(nodes, children):
        parent = by_id.get(n.parent or "")
        if n.role != "assistant" or parent is None or parent.role != "assistant":
            continue
        n.text = f"{parent.text}\n\n{n.text}".strip()
        n.parent, n.model = parent.parent, n.model or parent.model
        n.time = parent.time or n.time
        if all(c.role == "assistant" for c in children.get(parent.id, [])):
            absorbed.add(parent.id)
    if current in absorbed:
        # The kept leaf was folded into the kept reply that went on from it.
        after = [c for c in children.get(current, []) if c.id in kept_ids]
        current = after[0].id if after else current
    return [n for n in nodes if n.id not in absorbed], current


def _parents_first(nodes: list[Node], children: dict[str | None, list[Node]]) -> list[Node]:
    out: list[Node] = []
    todo = list(children.get(None, []))
    while todo:
        node = todo.pop(0)
        out.append(node)
        todo.extend(children.get(node.id, []))
    return out


def _check(thread: Thread) -> None:
    by_id: dict[str, Node] = {}
    for n in thread.nodes:
        if n.id in by_id:
            raise thread.refuse(n.id, "id: appears twice")
        by_id[n.id] = n
    for n in thread.nodes:
        if n.parent is not None and n.parent not in by_id:
            raise thread.refuse(n.id, f"parent: {n.parent!r} is no message of the conversation")
    done: set[str] = set()
    for n in thread.nodes:
        seen: set[str] = set()
        at: Node | None = n
        while at is not None and at.id not in done:
            if at.id in seen:
                raise thread.refuse(at.id, "parent: the messages' parents form a cycle")
            seen.add(at.id)
            at = by_id.get(at.parent) if at.parent is not None else None
        done |= seen
    if thread.current is not None and thread.current not in by_id:
        raise thread.refuse(None, f"the kept message {thread.current!r} is not in it")
