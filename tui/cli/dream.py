"""`hearth dream`: made-up turns over the person's memories, and their review."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from agent.access import opened
from tui.cli.options import JsonOpt
from tui.cli.output import err, note, out, print_json

if TYPE_CHECKING:
    from agent.dream.review import Dream
    from agent.face import Journal, Review

dream_app = typer.Typer(invoke_without_command=True)

ReviewOpt = Annotated[
    str | None,
    typer.Option(
        "--review", help="Only dreams in this state: pending, accepted, edited, rejected."
    ),
]


@dream_app.callback()
def dream_cmd(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="How many dreams to make.")] = 3,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Pick the same memories again (default: random).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Dreams: made-up turns over your memories, kept for you to review. Offline: pick
    memories (recent, important, rarely recalled, corrected ones first), make scenarios of
    them you might bring, and let the model answer each as the chat would. Each is kept as a
    synthetic candidate for `hearth dream review`; nothing is remembered, no recall counted,
    and only accepted dreams are exported (with `hearth export --include-synthetic`)."""
    if ctx.invoked_subcommand is not None:
        return
    import random

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from agent.dream.loop import run_dreams
    from agent.startup import load_agent

    chosen = seed if seed is not None else random.SystemRandom().randrange(2**31)
    with opened(write=True) as here:
        home = here.home
        agent = load_agent(home)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("dreaming", total=n)
            report = run_dreams(agent, n, chosen, advance=lambda: bar.advance(task))
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    if not report.made:
        note("nothing to dream from: no memory a dream may draw on (never secret or sensitive)")
        return
    _table(report.dreams)
    out.print(
        Text(
            f"{report.made} dream(s) in session {report.session_id} (seed {report.seed}), "
            f"{report.per_dream_s:.2f} s each; review them with `hearth dream review`"
        ),
        soft_wrap=True,
    )


@dream_app.command("list")
def dream_list(review: ReviewOpt = None, as_json: JsonOpt = False) -> None:
    """List dreams, oldest first, with their review state and the memories they drew on."""
    from agent.dream.review import dreams

    state = _state(review)
    with opened() as here:
        home = here.home
        found = dreams(home.journal, state)
        counts = _counts(home.journal)
    if as_json:
        print_json({"dreams": [d.model_dump(mode="json") for d in found], "counts": counts})
        return
    _table(found)


@dream_app.command("review")
def dream_review(
    accept: Annotated[
        list[int] | None, typer.Option("--accept", help="Accept this dream (repeatable).")
    ] = None,
    reject: Annotated[
        list[int] | None, typer.Option("--reject", help="Reject this dream (repeatable).")
    ] = None,
    edit: Annotated[
        int | None, typer.Option("--edit", help="Edit this dream's reply (with --text).")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="The edited reply.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept, edit or reject dreams: by id with the options, else one by one on a terminal.
    An edited dream exports as a DPO pair (your edit chosen, the model's reply rejected)."""
    from agent.dream.review import dreams, review

    if text is not None and edit is None:
        raise typer.BadParameter("--text goes with --edit ID", param_hint="--text")
    changed: list[Dream] = []
    with opened(write=True) as here:
        home = here.home
        journal = home.journal
        for dream_id in accept or []:
            changed.append(review(journal, dream_id, "accept"))
        for dream_id in reject or []:
            changed.append(review(journal, dream_id, "reject"))
        if edit is not None:
            changed.append(review(journal, edit, "edit", text))
        asked = bool(accept or reject or edit is not None)
        if not asked and sys.stdin.isatty() and not as_json:
            changed = _interactive(journal, dreams(journal, "pending"))
        counts = _counts(journal)
    if as_json:
        print_json({"reviewed": [d.model_dump(mode="json") for d in changed], "counts": counts})
        return
    if changed:
        _table(changed)
    note(", ".join(f"{state} {count}" for state, count in counts.items()))


def _interactive(journal: Journal, pending: list[Dream]) -> list[Dream]:
    from agent.dream.review import review

    changed: list[Dream] = []
    for d in pending:
        out.print(Text(f"\n#{d.id} {d.kind} · memories {', '.join(d.memory_ids)}"), soft_wrap=True)
        out.print(Text(f"  you:    {d.scenario}"), soft_wrap=True)
        out.print(Text(f"  hearth: {d.reply}"), soft_wrap=True)
        answer = typer.prompt("[a]ccept, [e]dit, [r]eject, [s]kip, [q]uit", default="s")
        choice = answer.strip().lower()[:1]
        if choice == "q":
            break
        if choice == "a":
            changed.append(review(journal, d.id, "accept"))
        elif choice == "r":
            changed.append(review(journal, d.id, "reject"))
        elif choice == "e":
            words = typer.prompt("the reply as it should be", default=d.reply)
            changed.append(review(journal, d.id, "edit", words))
    return changed


def _state(review: str | None) -> Review | None:
    from typing import cast

    from agent.dream.review import REVIEW_STATES

    states: tuple[str, ...] = REVIEW_STATES
    if review is None:
        return None
    if review not in states:
        raise typer.BadParameter(f"--review is one of {', '.join(states)}")
    return cast("Review", review)


def _counts(journal: Journal) -> dict[str, int]:
    from agent.dream.review import REVIEW_STATES, dreams

    found = dreams(journal)
    return {state: sum(1 for d in found if d.review == state) for state in REVIEW_STATES}


def _table(found: list[Dream]) -> None:
    table = Table("id", "kind", "review", "you (made up)", "reply", "memories", box=None)
    for d in found:
        table.add_row(
            str(d.id),
            d.kind,
            d.review,
            Text(_cut(d.scenario)),
            Text(_cut(d.reply)),
            Text(", ".join(d.memory_ids)),
        )
    out.print(table, soft_wrap=True)


def _cut(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
