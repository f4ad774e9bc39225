"""ChatGPT's data export: conversations.json (or conversations-000.json ... for large
accounts), each conversation a tree of nodes in `mapping`, the kept path ending at
`current_node`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agent.importing.files import ExportFile
from agent.importing.formats.shape import Record, records
from agent.importing.threads import Node, Thread, finish
from memory.errors import DatasetError

_FILE = re.compile(r"conversations(-\d+)?\.json")
# Content kept as text; every other type is skipped and counted (code, execution_output,
# thoughts, reasoning_recap, tether_*, system_error, model_editable_context, ...).
_TEXT_TYPES = ("text", "multimodal_text")
_INSTRUCTIONS = "user_editable_context"


def _files(files: Sequence[ExportFile]) -> list[ExportFile]:
    found = [f for f in files if _FILE.fullmatch(f.basename)]

    def order(f: ExportFile) -> int:
        number = re.search(r"-(\d+)\.json$", f.basename)
        return int(number.group(1)) if number else -1

    return sorted(found, key=order)


def is_chatgpt(head: bytes) -> bool:
    """Whether a conversations.json begins as ChatGPT writes it (keys only it has)."""
    markers = (b'"mapping"', b'"current_node"', b'"default_model_slug"', b'"conversation_id"')
    return head.lstrip().startswith(b"[") and any(m in head for m in markers)


class ChatGPT:
    """`[{id | conversation_id, title, create_time, mapping {node: {message, parent,
    children}}, current_node, default_model_slug}]`."""

    name = "chatgpt"
    remembers = True

    def detect(self, files: Sequence[ExportFile]) -> bool:
        found = _files(files)
        return bool(found) and is_chatgpt(found[0].peek(65536))

    def read(self, files: Sequence[ExportFile]) -> list[Thread]:
        found = _files(files)
        if not found:
            raise DatasetError("no conversations.json or conversations-000.json there")
        threads: list[Thread] = []
        seen: set[str] = set()
        for file in found:
            for record in records(file.json, file.label, "conversation", "id"):
                thread = _thread(record)
                if thread.id not in seen:  # a split export may repeat one at a boundary
                    seen.add(thread.id)
                    threads.append(thread)
        return threads


def _thread(record: Record) -> Thread:
    ident = record.text("id", None) or record.text("conversation_id", None)
    if not ident:
        raise record.refuse("id", "missing (nor conversation_id)")
    mapping = record.get("mapping", dict)
    default_model = record.text("default_model_slug", None)
    thread = Thread(
        format="chatgpt",
        id=ident,
        title=record.text("title", "") or "",
        file=record.file,
        nodes=[],
        current=record.text("current_node", None),
        created=record.time("create_time"),
    )
    for key, raw in mapping.items():
        node = Record(raw, record.file, f"{record.where}, node {key}")
        thread.nodes.append(_node(thread, node, str(key), default_model))
    return finish(thread, merge_replies=True)


def _node(thread: Thread, node: Record, key: str, default_model: str | None) -> Node:
    parent = node.text("parent", None)
    raw = node.get("message", dict, None)
    if raw is None:  # the tree's root: no message at all, nothing to count
        return Node(id=key, parent=parent, role="user", text="", skip="")
    message = Record(raw, node.file, f"{node.where}, message")
    author = message.child("author", f"{message.where}.author")
    role = author.text("role", None)
    content = message.child("content", f"{message.where}.content")
    kind = content.text("content_type", None) or "unknown"
    meta = message.get("metadata", dict, {})
    made = Node(
        id=key,
        parent=parent,
        role="assistant" if role == "assistant" else "user",
        text="",
        time=message.time("create_time"),
        model=(meta.get("model_slug") or default_model) if role == "assistant" else None,
    )
    if kind == _INSTRUCTIONS:
        # The person's custom instructions, repeated in every conversation: never a message.
        text = _instructions(content)
        if text and text not in thread.instructions:
            thread.instructions.append(text)
        made.skip = ""
    elif meta.get("is_visually_hidden_from_conversation"):
        made.skip = "hidden"
    elif role not in ("user", "assistant"):
        made.skip = f"role {role}"
    elif kind not in _TEXT_TYPES:
        made.skip = kind if not kind.startswith("tether_") else "tether"
    elif role == "assistant" and message.text("recipient", "all") not in ("all", ""):
        made.skip = "tool call"
    else:
        made.text = _text(content)
        made.skip = None if made.text.strip() else "empty"
    return made


def _text(content: Record) -> str:
    parts = content.get("parts", list, [])
    out: list[str] = []
    for part in parts:
        # multimodal_text: strings and {text} parts (voice transcriptions); images are not text.
        text = part if isinstance(part, str) else _part_text(part)
        if text:
            out.append(text)
    return "\n".join(out).strip()


def _part_text(part: Any) -> str:
    if isinstance(part, dict) and isinstance(part.get("text"), str):
        return str(part["text"])
    return ""


def _instructions(content: Record) -> str:
    about = content.text("user_profile", "") or ""
    how = content.text("user_instructions", "") or ""
    return "\n\n".join(t.strip() for t in (about, how) if t.strip())


FORMAT = ChatGPT()
