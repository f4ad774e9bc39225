"""How memories, hits, history and the graph are shown: tables, JSON, dot and Mermaid."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from agent.face import Edge, Hit, Memory
from tui.cli.output import out, print_json

if TYPE_CHECKING:
    from agent.face import HistoryEntry


def memory_json(memory: Memory) -> dict[str, Any]:
    return memory.model_dump(mode="json")


def hit_json(hit: Hit) -> dict[str, Any]:
    return {**memory_json(hit.memory), **hit.model_dump(mode="json", exclude={"memory"})}


def _when(memory: Memory) -> str:
    return memory.learned_at.astimezone().strftime("%Y-%m-%d %H:%M")


def _status(memory: Memory) -> str:
    marks = ["pinned"] if memory.pinned else []
    marks += ["expired"] if memory.expired_at or memory.valid_to else []
    marks += memory.flags
    return ", ".join(marks)


def memory_table(memories: list[Memory]) -> Table:
    table = Table("id", "kind", "learned", "status", "text", box=None)
    for m in memories:
        table.add_row(m.id, m.kind, _when(m), _status(m), Text(m.text))
    return table


def hit_table(hits: list[Hit]) -> Table:
    table = Table("id", "kind", "score", "dense", "lexical", "graph", "text", box=None)
    for h in hits:
        table.add_row(
            h.memory.id,
            h.memory.kind,
            f"{h.score:.4f}",
            "" if h.dense is None else f"{h.dense:.2f}",
            "" if h.lexical is None else f"{h.lexical:.2f}",
            "" if h.graph is None else f"{h.graph:.2f}",
            Text(h.memory.text),
        )
    return table


def history_table(entries: list[HistoryEntry]) -> Table:
    table = Table("#", "when", "memory", "action", "actor", "text", box=None)
    for e in entries:
        text = e.text if e.text is not None else json.dumps(e.detail) if e.detail else ""
        table.add_row(
            str(e.n),
            e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            e.memory_id or "",
            e.action,
            e.actor,
            Text(text),
        )
    return table


def as_dot(memories: list[Memory], edges: list[Edge]) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    lines = ["digraph memory {"]
    lines += [f"  {quote(m.id)} [label={quote(f'{m.kind}: {m.text}')}];" for m in memories]
    lines += [
        f"  {quote(e.src)} -> {quote(e.dst)} [label={quote(e.type)}, weight={e.weight}];"
        for e in edges
    ]
    return "\n".join([*lines, "}"])


def as_mermaid(memories: list[Memory], edges: list[Edge]) -> str:
    def label(text: str) -> str:
        return text.replace('"', "#quot;").replace("\n", " ")

    lines = ["graph LR"]
    lines += [f'  {m.id}["{label(f"{m.kind}: {m.text}")}"]' for m in memories]
    lines += [f"  {e.src} -->|{e.type}| {e.dst}" for e in edges]
    return "\n".join(lines)


def print_details(data: dict[str, Any]) -> None:
    """`hearth memory show`'s text, from its JSON (`agent.memory_use.details`)."""
    from agent.memory_use import MATTERS_AT

    memory = Memory.model_validate(data)
    out.print(Text(f"{memory.id} · {memory.kind} · about {memory.subject}", style="bold"))
    out.print(Text(memory.text))
    if memory.quote is not None:
        out.print(Text(f'said: "{memory.quote}"'))
    for key in ("importance", "pinned", "flags", "valid_from", "valid_to", "learned_at"):
        out.print(Text(f"{key}: {data[key]}"))
    out.print(Text(f"expired_at: {data['expired_at']}"))
    for source in data["sources"]:
        out.print(Text(f"from message {source['id']}: {source.get('text', '(missing)')}"))
    for e in (Edge.model_validate(edge) for edge in data["edges"]):
        out.print(Text(f"edge {e.src} -[{e.type} {e.weight}]-> {e.dst}"))
    if (use := data["used"]) is not None:
        line = (
            f"used: without it, reply {use['message_id']}'s mean log-probability drops by"
            f" {use['drop']:.3f} (the most over {use['replies']} scored reply(ies); `hearth score`)"
            if use["drop"] > 0
            else f"not used: no scored reply was less likely without it ({use['replies']} scored)"
        )
        out.print(Text(line), soft_wrap=True)
        if use["never_mattered"]:
            out.print(
                Text(
                    f"never mattered: recalled {memory.recalled_count} times, no scored reply"
                    f" dropped by {MATTERS_AT} or more without it (`hearth sleep` lowers it)"
                ),
                soft_wrap=True,
            )


def print_memory(memory: Memory, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(memory_json(memory))
        return
    out.print(Text(f"{verb} {memory.id} ({memory.kind}): {memory.text}"))
    if memory.flags:
        out.print(Text(f"flagged: {', '.join(memory.flags)}", style="yellow"))
