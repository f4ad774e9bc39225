"""The reading `hearth memory` commands: list, search, show, history, stats and graph."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from agent.access import Here, opened, read
from agent.face import COUNTED_KINDS, Hit, Memory
from tui.cli.memory.params import AllOpt, IdArg, KindOpt, ListAllOpt, parse_kinds
from tui.cli.memory.render import (
    as_dot,
    as_mermaid,
    history_table,
    hit_json,
    hit_table,
    memory_json,
    memory_table,
    print_details,
)
from tui.cli.options import ConnectOpt, JsonOpt
from tui.cli.output import note, out, print_json, write_raw

if TYPE_CHECKING:
    from agent.face import Mentions


class GraphFormat(StrEnum):
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


def memory_list(
    kind: KindOpt = None,
    show_all: ListAllOpt = False,
    limit: Annotated[int | None, typer.Option("-n", help="At most this many.")] = None,
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List memories: pinned first, then the most recently learned."""
    # The person's kept words (`said`) show with `--kind said` or `--all`, not among the facts.
    kinds = parse_kinds(kind) or (None if show_all else list(COUNTED_KINDS))
    memories = read(
        connect,
        lambda client: [Memory.model_validate(m) for m in client.memories(kinds, show_all, limit)],
        lambda here: here.memory.list(kinds=kinds, valid_only=not show_all, limit=limit),
        on_busy=note,
    )
    if as_json:
        print_json([memory_json(m) for m in memories])
        return
    out.print(memory_table(memories))


def memory_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int | None, typer.Option("-k", help="How many hits.")] = None,
    kind: KindOpt = None,
    show_all: AllOpt = False,
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hybrid search (meaning, words, recency, importance, links), best first; memories about
    the people a query names rank higher."""
    kinds = parse_kinds(kind)

    def search_here(here: Here) -> tuple[list[Hit], Mentions | None]:
        named = here.memory.mentions(query)
        found = here.memory.search(query, k, kinds=kinds, valid_only=not show_all, mentions=named)
        return found, named

    # Remotely the server ranks by the people named, without saying which (`named` None).
    hits, named = read(
        connect,
        lambda client: (
            [Hit.model_validate(h) for h in client.search(query, k, kinds, show_all)],
            None,
        ),
        search_here,
        on_busy=note,
    )
    if as_json:
        print_json([hit_json(h) for h in hits])
        return
    if named is not None and named.subjects:
        # Says why memories about someone rank higher than their text alone would.
        about = ", ".join(sorted(named.subjects))
        out.print(
            Text(f"names {about}: their memories rank higher; meaning searched as: "
                 f"{named.rest or query}", style="dim")
        )  # fmt: skip
    out.print(hit_table(hits))


def memory_show(memory_id: IdArg, connect: ConnectOpt = None, as_json: JsonOpt = False) -> None:
    """One memory with where it came from (journal messages) and its edges."""
    from agent.memory_use import details

    data = read(
        connect,
        lambda client: client.show(memory_id),
        lambda here: details(here.memory, here.home.journal, memory_id),
        on_busy=note,
    )
    if as_json:
        print_json(data)
        return
    print_details(data)


def memory_history(
    memory_id: Annotated[str | None, typer.Argument(help="Only this memory.")] = None,
    limit: Annotated[int | None, typer.Option("-n", help="Only the newest N changes.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every change to memory, oldest first, with who made it."""
    with opened(store=True) as here:
        store = here.memory
        entries = store.history(memory_id, limit=limit)
    if as_json:
        print_json([e.model_dump(mode="json") for e in entries])
        return
    out.print(history_table(entries))


def memory_stats(as_json: JsonOpt = False) -> None:
    """Counts: memories by kind and state, edges, history, the index and the embedding model."""
    with opened(store=True) as here:
        store = here.memory
        stats = store.stats()
    if as_json:
        print_json(stats.model_dump(mode="json"))
        return
    table = Table("what", "count", box=None)
    for key, value in stats.model_dump(mode="json").items():
        table.add_row(key, Text(json.dumps(value) if isinstance(value, dict) else str(value)))
    out.print(table)


def memory_graph(
    fmt: Annotated[GraphFormat, typer.Option("--format", help="Output format.")] = (
        GraphFormat.dot
    ),
    show_all: AllOpt = False,
) -> None:
    """The graph as Graphviz dot, Mermaid or JSON."""
    with opened(store=True) as here:
        store = here.memory
        memories = store.list(valid_only=not show_all)
        ids = {m.id for m in memories}
        edges = [e for e in store.edges() if e.src in ids and e.dst in ids]
    if fmt is GraphFormat.json:
        print_json(
            {
                "nodes": [memory_json(m) for m in memories],
                "edges": [e.model_dump(mode="json") for e in edges],
            }
        )
        return
    render = as_dot if fmt is GraphFormat.dot else as_mermaid
    write_raw(render(memories, edges) + "\n")
