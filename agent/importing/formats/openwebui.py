"""Open WebUI's chat export (Settings, Chats, Export): each chat's `history` a tree of
messages through `parentId`, the kept path ending at `currentId`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.importing.files import ExportFile
from agent.importing.formats.shape import Record, records
from agent.importing.threads import Node, Thread, finish
from memory.errors import DatasetError


def _exports(files: Sequence[ExportFile]) -> list[ExportFile]:
    return [f for f in files if f.basename.endswith(".json") and _is_export(f.peek(65536))]


def _is_export(head: bytes) -> bool:
    # An array of chats: {"id", "user_id", "title", "chat": {..., "history" (newer)}}.
    chat = b'"chat"' in head and (b'"history"' in head or b'"user_id"' in head)
    return head.lstrip().startswith(b"[") and chat


class OpenWebUI:
    """`[{id, title, chat {models, history {messages {id: {parentId, childrenIds, role,
    content, timestamp, model, modelName}}, currentId}, messages []}, created_at, updated_at}]`."""

    name = "openwebui"
    remembers = True

    def detect(self, files: Sequence[ExportFile]) -> bool:
        return bool(_exports(files))

    def read(self, files: Sequence[ExportFile]) -> list[Thread]:
        found = _exports(files)
        if not found:
            raise DatasetError("no Open WebUI chat export (.json with chat histories) there")
        return [_thread(r) for file in found for r in records(file.json, file.label, "chat", "id")]


def _thread(record: Record) -> Thread:
    ident = record.text("id", None)
    if not ident:
        raise record.refuse("id", "missing")
    chat = record.child("chat", f"{record.where}, chat")
    thread = Thread(
        format="openwebui",
        id=ident,
        title=record.text("title", "") or chat.text("title", "") or "",
        file=record.file,
        nodes=[],
        created=record.time("created_at"),
    )
    history = chat.get("history", dict, None)
    if history is None:  # no tree: the linear copy, each message after the one before
        return _linear(thread, chat)
    tree = Record(history, record.file, f"{chat.where}.history")
    messages = tree.get("messages", dict)
    thread.current = tree.text("currentId", None)
    asked: dict[str, Any] = {}
    for key, raw in messages.items():
        message = Record(raw, record.file, f"{tree.where}, message {key}")
        node = _node(message, str(key))
        node.parent = message.text("parentId", None)
        asked[node.id] = message.value.get("models")
        thread.nodes.append(node)
    for node in thread.nodes:
        # Answers to a message sent to several models at once are parallel, not regenerations.
        models = asked.get(node.parent or "")
        node.parallel = node.role == "assistant" and isinstance(models, list) and len(models) > 1
    return finish(thread)


def _linear(thread: Thread, chat: Record) -> Thread:
    previous: str | None = None
    for i, raw in enumerate(chat.get("messages", list)):
        message = Record(raw, chat.file, f"{chat.where}, message #{i}")
        node = _node(message, message.text("id", None) or str(i))
        node.parent = previous
        previous = node.id
        thread.nodes.append(node)
    thread.current = previous
    return finish(thread)


def _node(message: Record, key: str) -> Node:
    role = message.text("role", None)
    content = message.get("content", (str, list), "")
    text = content if isinstance(content, str) else "\n".join(_parts(content))
    node = Node(
        id=key,
        parent=None,
        role="assistant" if role == "assistant" else "user",
        text=text,
        time=message.time("timestamp"),
        model=(message.text("modelName", None) or message.text("model", None))
        if role == "assistant"
        else None,
    )
    if role not in ("user", "assistant"):
        node.skip = f"role {role}"
    elif not text.strip():
        node.skip = "empty"
    return node


def _parts(content: list[Any]) -> list[str]:
    return [
        str(p.get("text"))
        for p in content
        if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
    ]


FORMAT = OpenWebUI()
