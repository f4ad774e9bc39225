"""`hearth memory forget` and `hearth memory reject`: which forget runs where, and its questions."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from agent import access
from agent.access import opened
from agent.face import ForgetReport, Memory
from tui.cli.forget_backups import BackupsOpt
from tui.cli.forget_backups import action as backups_action
from tui.cli.forget_backups import apply as apply_backups
from tui.cli.memory.forget_everything import forget_everything
from tui.cli.memory.forget_output import (
    chroma_server,
    print_preview,
    say_conversation_kept,
    show_preview,
    show_report,
    usage_error,
)
from tui.cli.memory.params import IdArg
from tui.cli.options import ConnectOpt, JsonOpt
from tui.cli.output import confirm, err, note, out

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
    # Only a plain `forget ID` goes through this machine's server; the rest runs here.
    if (found := access.server(connect, here=plain)) is not None:
        from agent.serving.client import Client

        if memory_id is None or not plain:
            usage_error(
                "through a Hearth elsewhere (--connect, remote.url) only `forget ID` works; "
                "--matching, --everything, --everywhere and --dry-run run where the data dir is"
            )
        with Client(found, on_wait=note) as client:
            memory = Memory.model_validate(client.show(memory_id))
            report = ForgetReport.model_validate(client.forget(memory_id))
        show_report(report, as_json)
        if not as_json:
            say_conversation_kept(memory, remote=not client.remote.here)
        return
    if everything:
        forget_everything(yes=yes, dry_run=dry_run, as_json=as_json, backups=chosen)
        return
    from agent.recall import shown_line_pattern
    from agent.upkeep import phrase_problem

    if matching is not None and (problem := phrase_problem(matching)):
        usage_error(f"--matching {problem}")

    with opened(write=True, store=True) as here:
        home, store = here.home, here.memory
        journal, shown = home.journal, shown_line_pattern
        if memory_id is not None and not everywhere:
            memory = store.get(memory_id)
            if dry_run:
                preview = store.preview_forget(memory_id=memory_id, journal=journal, shown_as=shown)
                show_preview(preview, as_json, phrase=False)
                return
            report = store.forget(memory_id, journal, shown_as=shown)
            show_report(report, as_json, server=chroma_server(store))
            if not as_json:
                say_conversation_kept(memory)
            return
        if memory_id is not None:
            text = store.get(memory_id).text
            if problem := phrase_problem(text):
                usage_error(f"--everywhere: the memory's text {problem}")
            preview = store.preview_forget(
                memory_id=memory_id, everywhere=True, journal=journal, shown_as=shown
            )
        else:
            assert matching is not None
            preview = store.preview_forget(phrase=matching, journal=journal, shown_as=shown)
        if dry_run:
            show_preview(preview, as_json, phrase=True)
            return
        if not yes:  # what would change, before the question (beside --json's stdout)
            print_preview(preview, phrase=True, to=err if as_json else out)
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
        server = chroma_server(store)
    show_report(report, as_json, server=server)


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


def memory_reject(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    from agent.recall import shown_line_pattern

    with opened(write=True, store=True) as here:
        home, store = here.home, here.memory
        memory = store.get(memory_id)
        report = store.reject(memory_id, home.journal, shown_as=shown_line_pattern)
        server = chroma_server(store)
    show_report(report, as_json, server=server)
    if not as_json:
        out.print(
            Text(f"rejected {memory.id}: the same words will not be learned again"),
            soft_wrap=True,
        )
        say_conversation_kept(memory)
