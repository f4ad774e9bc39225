"""`hearth memory ...` and `hearth sleep`: see, search, correct, forget and consolidate memories."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from memory.backup_ledger import OutsideBackup
from memory.backup_ledger import outside as outside_backups
from memory.forget_backups import Action, delete_listed
from memory.graph.flags import SECRET
from memory.graph.kinds import COUNTED_KINDS
from memory.graph.nodes import KINDS, Edge, ForgetReport, Hit, Kind, Memory
from memory.secrets import has_secret, secret_kinds
from tui.cli.forget_backups import BackupsOpt
from tui.cli.forget_backups import action as backups_action
from tui.cli.forget_backups import apply as apply_backups
from tui.cli.forget_backups import show as show_backups
from tui.cli.logs import ForceOpt, SalvageOpt, print_recovery
from tui.cli.options import DATE_FORMATS, ConnectOpt, JsonOpt, as_local, server_for
from tui.cli.output import confirm, err, note, out, print_json, warn, write_raw

T = TypeVar("T")

if TYPE_CHECKING:
    from agent.learn.write_path import Extractor
    from agent.serving.client import Client
    from agent.startup import Home
    from memory.graph.forgetting import ForgetPreview
    from memory.graph.nodes import HistoryEntry
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
ListAllOpt = Annotated[
    bool,
    typer.Option(
        "--all", help="Include superseded and expired memories, and the person's words (said)."
    ),
]


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

    home = open_home(write_lock=write, borrow=write)
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


def _remote(connect: str | None, *, served_here: bool = True) -> Client | None:
    """The Hearth a command goes through: the one elsewhere (--connect URL, remote.url), else
    the `hearth serve` running for this data dir (its embedder is loaded: seconds saved),
    unless `served_here` is False; None: the command opens the data dir itself (borrowing it
    from a chat or server holding it)."""
    from agent.serving.client import Client

    server = server_for(connect, here=served_here)
    return None if server is None else Client(server, on_wait=note)


def _read_through(connect: str | None, read: Callable[[Client], T]) -> T | None:
    """A read through the Hearth a command goes through (`_remote`); None: read here, with
    no server, or when this machine's server has not answered in 2 s (one note says so)."""
    from agent.serving.client import Busy

    if (client := _remote(connect)) is None:
        return None
    with client:
        try:
            return read(client)
        except Busy:
            note("hearth serve is busy and did not answer in 2 s; read from the data dir here")
            return None


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
    show_all: ListAllOpt = False,
    limit: Annotated[int | None, typer.Option("-n", help="At most this many.")] = None,
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List memories: pinned first, then the most recently learned."""
    # The person's kept words (`said`) show with `--kind said` or `--all`, not among the facts.
    kinds = _kinds(kind) or (None if show_all else list(COUNTED_KINDS))
    found = _read_through(connect, lambda client: client.memories(kinds, show_all, limit))
    if found is not None:
        memories = [Memory.model_validate(m) for m in found]
    else:
        with _store(write=False) as (_home, store):
            memories = store.list(kinds=kinds, valid_only=not show_all, limit=limit)
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
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hybrid search (meaning, words, recency, importance, links), best first; memories about
    the people a query names rank higher."""
    kinds = _kinds(kind)
    named = None  # remotely: the server ranks by the people named, without saying which
    found = _read_through(connect, lambda client: client.search(query, k, kinds, show_all))
    if found is not None:
        hits = [Hit.model_validate(h) for h in found]
    else:
        with _store(write=False) as (_home, store):
            named = store.mentions(query)
            hits = store.search(query, k, kinds=kinds, valid_only=not show_all, mentions=named)
    if as_json:
        print_json([_hit_json(h) for h in hits])
        return
    if named is not None and named.subjects:
        # Says why memories about someone rank higher than their text alone would.
        about = ", ".join(sorted(named.subjects))
        out.print(
            Text(f"names {about}: their memories rank higher; meaning searched as: "
                 f"{named.rest or query}", style="dim")
        )  # fmt: skip
    out.print(_hit_table(hits))


@memory_app.command("show")
def memory_show(memory_id: IdArg, connect: ConnectOpt = None, as_json: JsonOpt = False) -> None:
    """One memory with where it came from (journal messages) and its edges."""
    from agent.memory_use import details

    shown = _read_through(connect, lambda client: client.show(memory_id))
    if shown is not None:
        data = shown
    else:
        with _store(write=False) as (home, store):
            data = details(store, home.journal, memory_id)
    if as_json:
        print_json(data)
        return
    _print_details(data)


def _print_details(data: dict[str, Any]) -> None:
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


def _refuse_secret(text: str, allowed: bool) -> None:
    """A secret is never remembered without the person's say-so: one line, exit 2 (usage)."""
    found = secret_kinds(text)
    if found and not allowed:
        kinds = ", ".join(found)
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
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remember something. Text holding a password, PIN, card number, key or token is refused
    unless --secret says to keep it."""
    _refuse_secret(text, secret)  # before it leaves this machine, too
    if (client := _remote(connect)) is not None:
        from agent.serving.schemas import MemoryIn

        asked = MemoryIn(
            text=text,
            kind=_kind(kind),
            subject=subject,
            importance=importance,
            pin=pin,
            secret=secret,
        )
        with client:
            memory = Memory.model_validate(client.add(asked))
        _print_memory(memory, as_json, "remembered")
        return
    with _store(write=True) as (_home, store):
        memory = store.add(
            text,
            kind=_kind(kind),
            subject=subject,
            importance=importance,
            pinned=pin,
            flags=[SECRET] if secret and has_secret(text) else [],
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


def _usage_error(message: str) -> NoReturn:
    """A bad argument, said in one line (exit 2, like click's usage errors)."""
    err.print(f"[red]hearth:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


# What each journal count of a forget counts, in words.
_PLACES = {
    "message_texts_redacted": "message texts",
    "prompts_redacted": "stored prompts",
    "notes_shown_redacted": "recalled notes kept with a message",
    "session_titles_redacted": "session titles",
    "feedback_notes_redacted": "feedback notes",
    "prompts_with_note_removed": "stored prompts or notes that showed it",
}


def _print_preview(preview: ForgetPreview, phrase: bool, to: Console = out) -> None:
    count = len(preview.memories)
    to.print(Text(f"would forget {count} {'memory' if count == 1 else 'memories'}"))
    for memory in preview.memories[:5]:
        to.print(Text(f"  {memory.id}: {memory.text}"))
    if count > 5:
        to.print(Text(f"  … and {count - 5} more"))
    places = [f"{n} {_PLACES.get(what, what)}" for what, n in preview.journal.items()]
    places.append(f"{preview.log_lines} log lines")
    places.append(f"{len(preview.exports.inside)} export files in exports/")
    to.print(
        Text(("would redact " if phrase else "would remove its notes from ") + ", ".join(places))
    )
    for snippet in preview.snippets:
        to.print(Text(f"  {snippet}"))
    _print_elsewhere([e.model_dump() for e in preview.exports.elsewhere], to)
    show_backups(preview.backups, "list", done=False, to=to)
    for path in preview.copies:
        to.print(Text(f"would delete a safety copy that holds it: {path}"), soft_wrap=True)


def _print_elsewhere(listed: list[dict[str, Any]], to: Console = out) -> None:
    """Exports outside the data dir: never touched, each named with its path."""
    for entry in listed:
        if not entry["exists"]:
            line = f"export elsewhere, no longer there: {entry['path']}"
        elif entry.get("holds_phrase") is False:
            line = f"export elsewhere, not touched (does not hold it): {entry['path']}"
        else:
            line = f"export elsewhere, NOT touched, still holds it: {entry['path']}"
        to.print(Text(line), soft_wrap=True)


def _print_report(report: ForgetReport) -> None:
    out.print(Text(f"forgot {len(report.memory_ids)} memories: {' '.join(report.memory_ids)}"))
    table = Table("store", "what", "count", box=None)
    for name in ("memory_db", "chroma", "journal", "log", "exports"):
        for what, count in getattr(report, name).items():
            table.add_row(name, what, str(count))
    out.print(table)
    if unreadable := report.exports.get("files_unreadable"):
        warn(f"{unreadable} export files in exports/ could not be read, so still hold it "
             "(named in hearth.log): remove them yourself")  # fmt: skip
    _print_elsewhere(report.exports_elsewhere)
    show_backups([OutsideBackup(**b) for b in report.backups_elsewhere], "list", done=True)
    for path in report.copies_deleted:
        out.print(Text(f"deleted a safety copy that held it: {path}"), soft_wrap=True)


# One paragraph a line: the help renderer wraps paragraphs itself.
FORGET_HELP = "\n\n".join(
    [
        "Forget a memory, a phrase, or everything, for good.",
        "ID: the memory goes from the memory database, its index and history, and from the "
        "stored prompts where it was shown to the model as a recalled note. The conversation "
        "where it was said is kept; add --everywhere to remove its words there too.",
        "--matching PHRASE: every memory holding the phrase goes, and the phrase is replaced "
        "wherever it is written: message texts, prompts, titles, feedback notes, the log, and "
        "export files in the data dir's exports/ (exports written elsewhere are listed, never "
        "touched). Shows what would change and asks first (--yes: go ahead without asking).",
        "Either way, safety copies in the data dir that hold the words (backups/ made before an "
        "upgrade, *.damaged-* files kept by a recover, replaced-*/ kept by a restore) are "
        "deleted. Backups `hearth backup` wrote outside the data dir are listed (one not there "
        "now as unreachable); --backups rewrite takes the words out of them (their manifest "
        "made again), --backups delete deletes them.",
        "--everything: every store, log and export in the data dir is removed; config.toml and "
        "models/ stay. Asks first.",
    ]
)


@memory_app.command("forget", help=FORGET_HELP)
def memory_forget(
    memory_id: Annotated[str | None, typer.Argument(help="The memory to forget.")] = None,
    everywhere: Annotated[
        bool,
        typer.Option(
            "--everywhere",
            help="With ID: also forget the memory's words as a phrase everywhere (messages, "
            "prompts, the log, exports), as --matching does.",
        ),
    ] = False,
    matching: Annotated[
        str | None,
        typer.Option(
            "--matching",
            help="Forget every memory containing this phrase and the phrase itself everywhere.",
        ),
    ] = None,
    everything: Annotated[
        bool,
        typer.Option("--everything", help="Remove every store, log and export in the data dir."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Go ahead without asking.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would change.")
    ] = False,
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
    backups: BackupsOpt = "list",
) -> None:
    chosen = backups_action(backups)
    if everything and chosen == "rewrite":
        raise typer.BadParameter("--everything takes --backups delete (or list), not rewrite")
    if sum((memory_id is not None, matching is not None, everything)) != 1:
        raise typer.BadParameter(
            "give a memory id, --matching PHRASE or --everything (one of them)"
        )
    if everywhere and memory_id is None:
        raise typer.BadParameter("--everywhere goes with a memory id")
    plain = memory_id is not None and not (everywhere or dry_run)
    if (client := _remote(connect, served_here=plain)) is not None:
        if memory_id is None or not plain:
            client.close()
            _usage_error(
                "through a Hearth elsewhere (--connect, remote.url) only `forget ID` works; "
                "--matching, --everything, --everywhere and --dry-run run where the data dir is"
            )
        with client:
            memory = Memory.model_validate(client.show(memory_id))
            report = ForgetReport.model_validate(client.forget(memory_id))
        _show_report(report, as_json)
        if not as_json:
            _say_conversation_kept(memory, remote=not client.remote.here)
        return
    if everything:
        _forget_everything(yes=yes, dry_run=dry_run, as_json=as_json, backups=chosen)
        return
    from agent.recall import shown_line_pattern
    from memory.graph.forgetting import phrase_problem

    if matching is not None and (problem := phrase_problem(matching)):
        _usage_error(f"--matching {problem}")

    with _store(write=True) as (home, store):
        journal, shown = home.journal, shown_line_pattern
        if memory_id is not None and not everywhere:
            memory = store.get(memory_id)
            if dry_run:
                preview = store.preview_forget(memory_id=memory_id, journal=journal, shown_as=shown)
                _show_preview(preview, as_json, phrase=False)
                return
            report = store.forget(memory_id, journal, shown_as=shown)
            _show_report(report, as_json, server=_server(store))
            if not as_json:
                _say_conversation_kept(memory)
            return
        if memory_id is not None:
            text = store.get(memory_id).text
            if problem := phrase_problem(text):
                _usage_error(f"--everywhere: the memory's text {problem}")
            preview = store.preview_forget(
                memory_id=memory_id, everywhere=True, journal=journal, shown_as=shown
            )
        else:
            assert matching is not None
            preview = store.preview_forget(phrase=matching, journal=journal, shown_as=shown)
        if dry_run:
            _show_preview(preview, as_json, phrase=True)
            return
        if not yes:  # what would change, before the question (beside --json's stdout)
            _print_preview(preview, phrase=True, to=err if as_json else out)
        confirm(yes, "Forget all of this, for good?", "this forget")
        if memory_id is not None:
            phrase = store.get(memory_id).text
            report = store.forget(memory_id, journal, shown_as=shown, everywhere=True)
        else:
            assert matching is not None
            phrase = matching
            report = store.forget_matching(matching, journal, shown_as=shown)
        if chosen != "list":
            reached = apply_backups(home.paths.data_dir, phrase, chosen)
            report = report.model_copy(update={"backups_elsewhere": reached})
        server = _server(store)
    _show_report(report, as_json, server=server)


REJECT_HELP = "\n\n".join(
    [
        "Reject a wrong memory: forget it, and never learn it again from the same words.",
        "It is forgotten as `hearth memory forget ID` forgets it (the conversation where it was "
        "said is kept). Hearth then keeps only keyed hashes (HMAC-SHA256, with a random key in "
        "the data dir's rejections.key) of every text the memory had and of the sentences it "
        "was learned from, never the words: saying the same sentence again teaches nothing, "
        "and another sentence saying the same words teaches nothing either.",
    ]
)


@memory_app.command("reject", help=REJECT_HELP)
def memory_reject(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    from agent.recall import shown_line_pattern

    with _store(write=True) as (home, store):
        memory = store.get(memory_id)
        report = store.reject(memory_id, home.journal, shown_as=shown_line_pattern)
        server = _server(store)
    _show_report(report, as_json, server=server)
    if not as_json:
        out.print(
            Text(f"rejected {memory.id}: the same words will not be learned again"),
            soft_wrap=True,
        )
        _say_conversation_kept(memory)


def _show_preview(preview: ForgetPreview, as_json: bool, *, phrase: bool) -> None:
    if as_json:
        print_json(preview.model_dump(mode="json"))
    else:
        _print_preview(preview, phrase)


COMPACTION = (
    "the Chroma server's own files may keep the old vectors' bytes until it compacts them "
    "(its write-ahead log and index files are the server's to clean)"
)


def _show_report(report: ForgetReport, as_json: bool, *, server: str | None = None) -> None:
    """`server`: the Chroma server's URL when the index is on one (its compaction note)."""
    if as_json:
        extra = {"chroma_server_note": f"{server}: {COMPACTION}"} if server else {}
        print_json({**report.model_dump(mode="json"), **extra})
        return
    _print_report(report)
    if server:
        out.print(Text(f"forgotten on the server at {server} too; {COMPACTION}"), soft_wrap=True)


def _server(store: MemoryStore) -> str | None:
    return None if store.settings.chroma == "embedded" else store.settings.chroma


def _say_conversation_kept(memory: Memory, *, remote: bool = False) -> None:
    where = (
        f"message {', '.join(str(i) for i in memory.provenance)} still says it"
        if memory.provenance
        else "messages that say it keep"
    )
    # --everywhere runs where the data dir is: on that machine, for a Hearth elsewhere.
    there = " (run there)" if remote else ""
    out.print(
        Text(
            f"the conversation is kept: {where} in its own words; "
            f"`hearth memory forget {memory.id} --everywhere`{there} would remove those words too"
        ),
        soft_wrap=True,
    )


def _forget_everything(*, yes: bool, dry_run: bool, as_json: bool, backups: Action) -> None:
    """Every store, log and export in the data dir removed, under the data dir lock."""
    import logging

    from agent.startup import open_home
    from memory import erase
    from memory.export.forgetting import elsewhere

    home = open_home(write_lock=True)
    try:
        paths = home.paths
        planned = erase.plan(paths, home.settings.memory)
        outside = [
            e.model_dump() for e in elsewhere(paths.exports_dir, home.journal.exports(), None)
        ]
        backed_up = outside_backups(paths.data_dir, None)
        data = {
            "data_dir": str(paths.data_dir),
            **planned.model_dump(),
            "exports_elsewhere": outside,
            "backups_elsewhere": [b.model_dump() for b in backed_up],
        }
        if as_json and (dry_run or yes):
            if dry_run:
                print_json(data)
                return
        else:
            out.print(
                Text(
                    f"would remove from {paths.data_dir}: {', '.join(planned.remove) or 'nothing'}"
                ),
                soft_wrap=True,
            )
            out.print(
                Text(f"would keep: {', '.join(planned.keep) or 'nothing else'} (settings, models)"),
                soft_wrap=True,
            )
            if planned.server:
                out.print(Text(f"would also delete this data dir's index on {planned.server}"))
            _print_elsewhere(outside)
            show_backups(backed_up, backups, done=False)
            if dry_run:
                return
        confirm(yes, "Remove all of this, for good?", "this forget")
        home.journal.close()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
            root.removeHandler(handler)  # the log is about to go; nothing more is written to it
            handler.close()
        done = erase.erase(paths, home.settings.memory)
        if backups == "delete":
            backed_up = delete_listed(backed_up)
            data["backups_elsewhere"] = [b.model_dump() for b in backed_up]
    finally:
        home.close()
    if as_json:
        print_json({**data, **done.model_dump()})
        return
    out.print(
        Text(f"removed from {paths.data_dir}: {', '.join(done.remove) or 'nothing'}"),
        soft_wrap=True,
    )
    out.print(Text(f"kept: {', '.join(done.keep) or 'nothing'}"), soft_wrap=True)
    if backups == "delete":
        show_backups(backed_up, backups, done=True)
    if done.server:
        out.print(Text(f"deleted this data dir's index on {done.server}; {COMPACTION}"))
    if outside:
        out.print(
            Text("exports written elsewhere were not touched (listed above): delete them yourself"),
            soft_wrap=True,
        )


@memory_app.command("rebuild")
def memory_rebuild(
    reembed: Annotated[
        bool, typer.Option("--reembed", help="Re-embed every memory with the current model.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recreate the search index from the memory database."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("re-embedding"), BarColumn(), MofNCompleteColumn())
    with (
        _store(write=True, verify_embedder=not reembed) as (_home, store),
        Progress(*columns, console=err, transient=True, disable=not reembed) as bar,
    ):
        task = bar.add_task("re-embedding", total=None)
        report = store.rebuild(
            reembed=reembed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(report)
        return
    out.print(
        Text(
            f"rebuilt: {report['indexed']} vectors indexed"
            + (f", {report['reembedded']} re-embedded" if reembed else "")
        )
    )


MIGRATE_HELP = "\n\n".join(
    [
        "Move the search index to a Chroma server, or back into the data dir.",
        "--to URL: a Chroma server (`chroma run --path DIR --host 127.0.0.1 --port 8000`), "
        "where this data dir gets a tenant of its own; --to embedded: chroma/ in the data dir. "
        "The index is filled from memory.sqlite3, which keeps every vector (the old index need "
        "not be reachable), then checked: every id, and a sample of vectors equal. Only then "
        "is the old copy deleted.",
        "config.toml is not edited: set memory.chroma as it prints (or "
        "HEARTH_MEMORY__CHROMA). Until then Hearth keeps using the old place and refills it "
        "from memory.sqlite3 at its next start.",
    ]
)


@memory_app.command("migrate", help=MIGRATE_HELP)
def memory_migrate(
    to: Annotated[
        str, typer.Option("--to", help='A Chroma server\'s URL (http://HOST:PORT) or "embedded".')
    ],
    as_json: JsonOpt = False,
) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from agent.startup import open_home
    from memory.index_migration import migrate

    home = open_home(write_lock=True, borrow=True)
    try:
        assert home.lock is not None
        columns = (SpinnerColumn(), TextColumn(f"copying the index to {to}"))
        with Progress(*columns, console=err, transient=True) as bar:
            bar.add_task("copying", total=None)
            report = migrate(home.paths, home.settings, to, home.lock)
    finally:
        home.close()
    if as_json:
        print_json(report.model_dump())
        return
    out.print(
        Text(f"moved the index from {report.source} to {report.target}: {report.indexed} vectors "
             f"for {report.memories} memories; checked: {report.check}"),
        soft_wrap=True,
    )  # fmt: skip
    out.print(Text(f"old index: {report.old_index}"), soft_wrap=True)
    out.print(
        Text(
            f"now set, under [memory] in {home.paths.config_file}: {report.setting} (or "
            f"HEARTH_MEMORY__CHROMA={report.target}); until then Hearth refills the old place "
            "at each start"
        ),
        soft_wrap=True,
    )


@memory_app.command("extract")
def memory_extract(
    since: Annotated[
        datetime,
        typer.Option(
            "--since",
            formats=DATE_FORMATS,
            help="Read your messages from this date (local time) on.",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Learn from history: run the memory extractor (memory.extractor; `hearth models info`
    says which) over your messages since a date, through the same write path as a chat. A
    message the extractor has read is skipped, so a second run, or one after Ctrl-C, goes on
    where the last stopped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from agent.learn.history import HistoryReport, extract_history, todo
    from agent.learn.history import since as messages_since

    start = as_local(since)
    with _store(write=True) as (home, store):
        messages = messages_since(home.journal, start)
        extract, tag = _extractor(home)
        pending = todo(messages, tag)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(f"extracting ({escape(tag)})", total=len(pending))
            changed = extract_history(
                home.journal,
                store,
                pending,
                extract=extract,
                tag=tag,
                user_name=home.settings.chat.user_name,
                advance=lambda: bar.advance(task),
            )
    report = HistoryReport(
        extractor=tag, read=len(pending), done_before=len(messages) - len(pending), changed=changed
    )
    if as_json:
        print_json(report.model_dump())
        return
    out.print(
        Text(
            f"read {report.read} message(s) with the {tag} extractor "
            f"({report.done_before} read before), {len(changed)} memory(ies) added or changed"
        ),
        soft_wrap=True,
    )


def _extractor(home: Home) -> tuple[Extractor, str]:
    """The extractor memory.extractor chooses for the model Hearth would load, and its tag."""
    from agent.learn.choice import choose
    from agent.learn.extract import extract as rules
    from agent.learn.model_extract import ModelExtractor
    from agent.runtime.backend import LlamaBackend, require_local
    from agent.runtime.gguf import read_info
    from agent.runtime.native_log import stderr_to
    from agent.startup import pick_model

    setting = home.settings.memory.extractor
    if setting == "model":
        require_local(home.settings.model, 'memory.extractor = "model"')
    if setting == "rules" or home.settings.model.backend != "llama-cpp":
        return rules, "rules"
    resolved = pick_model(home)
    choice = choose(setting, resolved.path, read_info(resolved.path).parameters, home.paths)
    err.print(Text(f"memory extractor: {choice.line()}"), soft_wrap=True)
    if choice.use == "rules":
        return rules, "rules"
    with stderr_to(home.paths.log_file):
        backend = LlamaBackend(resolved.path, home.settings.model)
    # Its own instance, no chat on it: nothing to keep in its cache.
    return ModelExtractor(backend, keep_cache=False), f"model:{backend.path.name}"


@memory_app.command("recover")
def memory_recover(
    salvage: SalvageOpt = False, force: ForceOpt = False, as_json: JsonOpt = False
) -> None:
    """Save a damaged memory database: keep a copy of it (memory.sqlite3.damaged-<time>), bring
    every row that can be read into a fresh one, then rebuild the search indexes from it."""
    from agent.recovery import recover_memory

    print_recovery(recover_memory(salvage=salvage, force=force), "memory database", as_json)


# -- hearth sleep (a top-level command) --------------------------------------------------


def sleep_cmd(as_json: JsonOpt = False) -> None:
    """Consolidate memory: merge near-duplicates, link related memories, write reflections
    over recurring episodes, decay what is never recalled, and lower what is recalled often but
    never mattered to a scored reply (`hearth score`). A second run changes nothing."""
    from agent.learn.consolidation import sleep
    from agent.startup import open_home
    from memory.clock import now

    home = open_home(write_lock=True, borrow=True)
    try:
        report = sleep(home.open_store(), at=now(), journal=home.journal)
    finally:
        home.close()
    if as_json:
        print_json(report.model_dump())
        return
    out.print(report.summary(), soft_wrap=True)
