"""Claude's data export: conversations.json, each conversation's `chat_messages` flat (older
exports) or a tree through `parent_message_uuid` whose kept path is the newest leaf's."""

from __future__ import annotations

from collections.abc import Sequence

from agent.importing.files import ExportFile
from agent.importing.formats.chatgpt import is_chatgpt
from agent.importing.formats.shape import Record, records
from agent.importing.threads import Node, Thread, finish
from memory.errors import DatasetError

# The parent Claude gives a conversation's first message: no message of the export.
ROOT = "00000000-0000-4000-8000-000000000000"
_SKIPPED_BLOCKS = ("thinking", "tool_use", "tool_result")


def _file(files: Sequence[ExportFile]) -> ExportFile | None:
    return next((f for f in files if f.basename == "conversations.json"), None)


class Claude:
    """`[{uuid, name, created_at, chat_messages [{uuid, sender, text, content [...],
    attachments [...], files [...], created_at, parent_message_uuid?}]}]`."""

    name = "claude"
    remembers = True

    def detect(self, files: Sequence[ExportFile]) -> bool:
        file = _file(files)
        if file is None:
            return False
        head = file.peek(65536)
        claude = b'"chat_messages"' in head or b'"uuid"' in head
        return head.lstrip().startswith(b"[") and claude and not is_chatgpt(head)

    def read(self, files: Sequence[ExportFile]) -> list[Thread]:
        file = _file(files)
        if file is None:
            raise DatasetError("no conversations.json there")
        return [_thread(r) for r in records(file.json, file.label, "conversation", "uuid")]


def _thread(record: Record) -> Thread:
    ident = record.text("uuid", None)
    if not ident:
        raise record.refuse("uuid", "missing")
    raw = record.get("chat_messages", list)
    messages = [
        Record(m, record.file, f"{record.where}, message {_uuid(m, i)}") for i, m in enumerate(raw)
    ]
    tree = any(m.value.get("parent_message_uuid") for m in messages)
    thread = Thread(
        format="claude",
        id=ident,
        title=record.text("name", "") or "",
        file=record.file,
        nodes=[],
        current=record.text("current_leaf_message_uuid", None) if tree else None,
        created=record.time("created_at"),
    )
    model = record.text("model", None)
    previous: str | None = None
    for message in messages:
        node = _node(thread, message, model)
        if tree:
            parent = message.text("parent_message_uuid", None)
            node.parent = None if parent in (None, "", ROOT) else parent
        else:  # an older, flat export: each message follows the one before
            node.parent = previous
        previous = node.id
        thread.nodes.append(node)
    if not tree and thread.nodes:
        thread.current = thread.nodes[-1].id
    return finish(thread)


def _uuid(raw: object, index: int) -> str:
    found = raw.get("uuid") if isinstance(raw, dict) else None
    return str(found) if found else f"#{index}"


def _node(thread: Thread, message: Record, model: str | None) -> Node:
    ident = message.text("uuid", None)
    if not ident:
        raise message.refuse("uuid", "missing")
    sender = message.text("sender", None)
    node = Node(
        id=ident,
        parent=None,
        role="assistant" if sender == "assistant" else "user",
        text="",
        time=message.time("created_at"),
        model=model if sender == "assistant" else None,
    )
    if sender not in ("human", "assistant"):
        node.skip = f"role {sender}"
        return node
    parts: list[str] = []
    blocks = message.get("content", list, None)
    if blocks is None:
        parts.append(message.text("text", "") or "")
    for i, raw in enumerate(blocks or []):
        block = Record(raw, message.file, f"{message.where}, content {i}")
        kind = block.text("type", "") or "unknown"
        if kind == "text":
            parts.append(block.text("text", "") or "")
        else:
            thread.skipped[kind if kind in _SKIPPED_BLOCKS else f"content {kind}"] += 1
    for i, raw in enumerate(message.get("attachments", list, [])):
        attachment = Record(raw, message.file, f"{message.where}, attachment {i}")
        pasted = attachment.text("extracted_content", "") or ""
        if pasted.strip():
            name = attachment.text("file_name", "") or "attachment"
            parts.append(f"[{name}]\n{pasted}")
        else:
            thread.skipped["attachment without text"] += 1
    thread.skipped["file"] += len(message.get("files", list, []))
    node.text = "\n\n".join(p.strip() for p in parts if p.strip())
    node.skip = None if node.text else "empty"
    return node


FORMAT = Claude()
