"""`hearth memory ...` and `hearth sleep`: see, search, correct, forget and consolidate memories."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from memory.graph.nodes import KINDS, Kind
from memory.secrets import find_secrets, has_secret
from tui.cli.options import JsonOpt
from tui.cli.output import err, out, print_json, write_raw

if TYPE_CHECKING:
    from agent.startup import Home
    from memory.graph.nodes import Edge, HistoryEntry, Hit, Memory
    from memory.graph.store import MemoryStore

memory_app = typer.Typer(
    help="See, search and correct what Hearth remembers.", no_args_is_help=True
)

IdArg = Annotated[str, typer.Argument(help="A memory id from `hearth memory list`.")]
KindOpt = Annotated[
    list[str] | None,
    typer.Option("--kind", help=f"Only these kinds (repeatable): {', '.join(KINDS)}."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Include superseded and expired memories.")]


class GraphFormat(StrEnum):
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


def _kind(name: str) -> Kind:
    for kind in KINDS:
        if kind == name:
            return kind
    raise typer.BadParameter(f"unknown kind {name!r}; use one of {', '.join(KINDS)}")


def _kinds(names: list[str] | None) -> list[Kind] | None:
    return [_kind(n) for n in names] if names else None


@contextlib.contextmanager
def _store(*, write: bool, verify_embedder: bool = True) -> Iterator[tuple[Home, MemoryStore]]:
    """The data dir and the memory store; write commands hold the data dir lock."""
    from agent.startup import open_home
    from memory.graph.store import MemoryStore

    home = open_home(write_lock=write)
    try:
        store = MemoryStore.open(
            home.paths,
            home.settings,
            write=write,
            lock=home.lock,
            verify_embedder=verify_embedder,
        )
        try:
            yield home, store
        finally:
            store.close()
    finally:
        home.close()


# -- rendering --------------------------------------------------------------------------


def _memory_json(memory: Memory) -> dict[str, Any]:
    return memory.model_dump(mode="json")


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {**_memory_json(hit.memory), **hit.model_dump(mode="json", exclude={"memory"})}


def _when(memory: Memory) -> str:
    return memory.learned_at.astimezone().strftime("%Y-%m-%d %H:%M")


def _status(memory: Memory) -> str:
    marks = ["pinned"] if memory.pinned else []
    marks += ["expired"] if memory.expired_at or memory.valid_to else []
    marks += memory.flags
    return ", ".join(marks)


def _memory_table(memories: list[Memory]) -> Table:
    table = Table("id", "kind", "learned", "status", "text", box=None)
    for m in memories:
        table.add_row(m.id, m.kind, _when(m), _status(m), Text(m.text))
    return table


def _hit_table(hits: list[Hit]) -> Table:
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


def _history_table(entries: list[HistoryEntry]) -> Table:
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


def _dot(memories: list[Memory], edges: list[Edge]) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    lines = ["digraph memory {"]
    lines += [f"  {quote(m.id)} [label={quote(f'{m.kind}: {m.text}')}];" for m in memories]
    lines += [
        f"  {quote(e.src)} -> {quote(e.dst)} [label={quote(e.type)}, weight={e.weight}];"
        for e in edges
    ]
    return "\n".join([*lines, "}"])


def _mermaid(memories: list[Memory], edges: list[Edge]) -> str:
    def label(text: str) -> str:
        return text.replace('"', "#quot;").replace("\n", " ")

    lines = ["graph LR"]
    lines += [f'  {m.id}["{label(f"{m.kind}: {m.text}")}"]' for m in memories]
    lines += [f"  {e.src} -->|{e.type}| {e.dst}" for e in edges]
    return "\n".join(lines)


# -- reading commands ---------------------------------------------------------------------


@memory_app.command("list")
def memory_list(
    kind: KindOpt = None,
    show_all: AllOpt = False,
    limit: Annotated[int | None, typer.Option("-n", help="At most this many.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List memories: pinned first, then the most recently learned."""
    with _store(write=False) as (_home, store):
        memories = store.list(kinds=_kinds(kind), valid_only=not show_all, limit=limit)
    if as_json:
        print_json([_memory_json(m) for m in memories])
        return
    out.print(_memory_table(memories))


@memory_app.command("search")
def memory_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int | None, typer.Option("-k", help="How many hits.")] = None,
    kind: KindOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Hybrid search (meaning, words, recency, importance, links), best first; memories about
    the people a query names rank higher."""
    with _store(write=False) as (_home, store):
        named = store.mentions(query)
        hits = store.search(query, k, kinds=_kinds(kind), valid_only=not show_all, mentions=named)
    if as_json:
        print_json([_hit_json(h) for h in hits])
        return
    if named.subjects:
        # Says why memories about someone rank higher than their text alone would.
        about = ", ".join(sorted(named.subjects))
        out.print(
            Text(f"names {about}: their memories rank higher; meaning searched as: "
                 f"{named.rest or query}", style="dim")
        )  # fmt: skip
    out.print(_hit_table(hits))


@memory_app.command("show")
def memory_show(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """One memory with where it came from (journal messages) and its edges."""
    from memory.errors import NotFoundError

    with _store(write=False) as (home, store):
        memory = store.get(memory_id)
        edges = store.edges(memory_id)
        sources: list[dict[str, Any]] = []
        for message_id in memory.provenance:
            try:
                msg = home.journal.message(message_id)
                sources.append({"id": msg.id, "role": msg.role, "text": msg.text})
            except NotFoundError:
                sources.append({"id": message_id, "missing": True})
    data = {
        **_memory_json(memory),
        "sources": sources,
        "edges": [e.model_dump(mode="json") for e in edges],
    }
    if as_json:
        print_json(data)
        return
    out.print(Text(f"{memory.id} · {memory.kind} · about {memory.subject}", style="bold"))
    out.print(Text(memory.text))
    for key in ("importance", "pinned", "flags", "valid_from", "valid_to", "learned_at"):
        out.print(Text(f"{key}: {data[key]}"))
    out.print(Text(f"expired_at: {data['expired_at']}"))
    for source in sources:
        out.print(Text(f"from message {source['id']}: {source.get('text', '(missing)')}"))
    for e in edges:
        out.print(Text(f"edge {e.src} -[{e.type} {e.weight}]-> {e.dst}"))


@memory_app.command("history")
def memory_history(
    memory_id: Annotated[str | None, typer.Argument(help="Only this memory.")] = None,
    limit: Annotated[int | None, typer.Option("-n", help="Only the newest N changes.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every change to memory, oldest first, with who made it."""
    with _store(write=False) as (_home, store):
        entries = store.history(memory_id, limit=limit)
    if as_json:
        print_json([e.model_dump(mode="json") for e in entries])
        return
    out.print(_history_table(entries))


@memory_app.command("stats")
def memory_stats(as_json: JsonOpt = False) -> None:
    """Counts: memories by kind and state, edges, history, the index and the embedding model."""
    with _store(write=False) as (_home, store):
        stats = store.stats()
    if as_json:
        print_json(stats.model_dump(mode="json"))
        return
    table = Table("what", "count", box=None)
    for key, value in stats.model_dump(mode="json").items():
        table.add_row(key, Text(json.dumps(value) if isinstance(value, dict) else str(value)))
    out.print(table)


@memory_app.command("graph")
def memory_graph(
    fmt: Annotated[GraphFormat, typer.Option("--format", help="Output format.")] = (
        GraphFormat.dot
    ),
    show_all: AllOpt = False,
) -> None:
    """The graph as Graphviz dot, Mermaid or JSON."""
    with _store(write=False) as (_home, store):
        memories = store.list(valid_only=not show_all)
        ids = {m.id for m in memories}
        edges = [e for e in store.edges() if e.src in ids and e.dst in ids]
    if fmt is GraphFormat.json:
        print_json(
            {
                "nodes": [_memory_json(m) for m in memories],
                "edges": [e.model_dump(mode="json") for e in edges],
            }
        )
        return
    render = _dot if fmt is GraphFormat.dot else _mermaid
    write_raw(render(memories, edges) + "\n")


# -- writing commands ---------------------------------------------------------------------


def _print_memory(memory: Memory, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(_memory_json(memory))
        return
    out.print(Text(f"{verb} {memory.id} ({memory.kind}): {memory.text}"))
    if memory.flags:
        out.print(Text(f"flagged: {', '.join(memory.flags)}", style="yellow"))


SecretOpt = Annotated[
    bool,
    typer.Option(
        "--secret",
        help="Keep it even though it holds a password, PIN, card number, key or token.",
    ),
]
SECRET_FLAG = "secret"


def _refuse_secret(text: str, allowed: bool) -> None:
    """A secret is never remembered without the person's say-so: one line, exit 2 (usage)."""
    found = find_secrets(text)
    if found and not allowed:
        kinds = ", ".join(dict.fromkeys(s.kind.lower().replace("_", " ") for s in found))
        err.print(
            f"hearth: not remembered: the text holds a secret ({kinds}); "
            "add --secret to keep it anyway",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)


@memory_app.command("add")
def memory_add(
    text: Annotated[str, typer.Argument(help="What to remember.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of {', '.join(KINDS)}.")] = "fact",
    subject: Annotated[str, typer.Option("--subject", help="Who it is about.")] = "user",
    importance: Annotated[float, typer.Option("--importance", min=0.0, max=1.0)] = 0.5,
    pin: Annotated[bool, typer.Option("--pin", help="Keep it always in view.")] = False,
    secret: SecretOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Remember something. Text holding a password, PIN, card number, key or token is refused
    unless --secret says to keep it."""
    _refuse_secret(text, secret)
    with _store(write=True) as (_home, store):
        memory = store.add(
            text,
            kind=_kind(kind),
            subject=subject,
            importance=importance,
            pinned=pin,
            flags=[SECRET_FLAG] if secret and has_secret(text) else [],
        )
    _print_memory(memory, as_json, "remembered")


@memory_app.command("edit")
def memory_edit(
    memory_id: IdArg,
    text: Annotated[str, typer.Argument(help="The corrected text.")],
    secret: SecretOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Correct a memory's text (history keeps the earlier version); a secret in it is refused
    unless --secret says to keep it."""
    _refuse_secret(text, secret)
    with _store(write=True) as (_home, store):
        memory = store.update_text(memory_id, text)
    _print_memory(memory, as_json, "edited")


@memory_app.command("pin")
def memory_pin(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Keep a memory always in view."""
    with _store(write=True) as (_home, store):
        memory = store.pin(memory_id)
    _print_memory(memory, as_json, "pinned")


@memory_app.command("unpin")
def memory_unpin(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Stop keeping a memory always in view."""
    with _store(write=True) as (_home, store):
        memory = store.unpin(memory_id)
    _print_memory(memory, as_json, "unpinned")


@memory_app.command("forget")
def memory_forget(
    memory_id: Annotated[str | None, typer.Argument(help="The memory to forget.")] = None,
    matching: Annotated[
        str | None,
        typer.Option(
            "--matching",
            help="Forget every memory containing this phrase and erase it from the journal.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a memory (or every trace of a phrase) from every store, for good."""
    if (memory_id is None) == (matching is None):
        raise typer.BadParameter("give a memory id or --matching PHRASE (one of them)")
    if matching is not None and not matching.strip():
        raise typer.BadParameter("--matching needs a phrase (an empty one would match everything)")
    with _store(write=True) as (home, store):
        if matching is not None:
            report = store.forget_matching(matching, home.journal)
        else:
            assert memory_id is not None
            report = store.forget(memory_id, home.journal)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    out.print(Text(f"forgot {len(report.memory_ids)} memories: {' '.join(report.memory_ids)}"))
    table = Table("store", "what", "count", box=None)
    for name in ("memory_db", "chroma", "journal", "log"):
        for what, count in getattr(report, name).items():
            table.add_row(name, what, str(count))
    out.print(table)


@memory_app.command("rebuild")
def memory_rebuild(
    reembed: Annotated[
        bool, typer.Option("--reembed", help="Re-embed every memory with the current model.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recreate the search index from the memory database."""
    with _store(write=True, verify_embedder=not reembed) as (_home, store):
        report = store.rebuild(reembed=reembed)
    if as_json:
        print_json(report)
        return
    out.print(
        Text(
            f"rebuilt: {report['indexed']} vectors indexed"
            + (f", {report['reembedded']} re-embedded" if reembed else "")
        )
    )


# -- hearth sleep (a top-level command) --------------------------------------------------


def sleep_cmd(as_json: JsonOpt = False) -> None:
    """Consolidate memory: merge near-duplicates, link related memories, write reflections
    over recurring episodes, decay what is never recalled. A second run changes nothing."""
    from agent.learn.consolidation import sleep
    from agent.startup import open_home
    from memory.clock import now

    home = open_home(write_lock=True)
    try:
        report = sleep(home.open_store(), at=now())
    finally:
        home.close()
    if as_json:
        print_json(report.model_dump())
        return
    out.print(
        f"merged {len(report.merged)} duplicate(s), linked {len(report.linked)} pair(s), "
        f"wrote {len(report.reflections)} reflection(s), decayed {len(report.decayed)} "
        "memory(ies)" + ("" if report.changed else ": nothing to change"),
        soft_wrap=True,
    )
