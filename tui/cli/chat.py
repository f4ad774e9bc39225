"""`hearth say` and the reply commands: regenerate, choose, edit and rate a turn."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.access import Here, opened, reach
from tui.cli.options import (
    ConnectOpt,
    JsonOpt,
    JsonTextOpt,
    ModelOpt,
    NoMemoryOpt,
    no_model_with_remote,
)
from tui.cli.output import note, out, print_json, warn, write_raw
from tui.stop_signals import exit_code, raise_on_stop_signals, received, stop_requested

if TYPE_CHECKING:
    from agent.serving.client import Client
    from agent.turn_result import TurnResult

OFF_RECORD_NOTE = "off the record: not remembered, never exported, deleted after this reply"

TurnArg = Annotated[int, typer.Argument(help="A message id from `hearth logs list`.")]


def _echo(piece: str) -> None:
    """A piece of a reply, on stdout as soon as it is generated (control characters inert)."""
    write_raw(piece)


def _message(given: str | None) -> str:
    """The message as given, or read from stdin for `-` (or for none, when stdin is piped)."""
    if given is not None and given != "-":
        return given
    if given is None and sys.stdin.isatty():
        raise typer.BadParameter("say something, or `-` to read the message from stdin")
    try:
        text = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        why = f"stdin is not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise typer.BadParameter(why) from exc
    # One trailing newline is the shell's (echo, a here-document), not the person's.
    text = text.removesuffix("\n")
    if not text.strip():
        raise typer.BadParameter("the message read from stdin is empty")
    return text


def say(
    message: Annotated[
        str | None,
        typer.Argument(
            help="What to say; `-` (or nothing, with stdin piped) reads it from stdin.",
            show_default=False,
        ),
    ] = None,
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Talk in this session.")
    ] = None,
    new: Annotated[bool, typer.Option("--new", help="Start a fresh session.")] = False,
    model: ModelOpt = None,
    no_memory: NoMemoryOpt = False,
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run one turn headless and print the reply (continues the most recent session).

    With --no-memory the turn is off the record: nothing is recalled or remembered, it is never
    exported, and it is deleted from the journal once the reply is printed.

    While `hearth serve` runs for this data dir (or with --connect URL), the turn runs there,
    on its loaded model."""
    text = _message(message)
    # Killed by a service manager or a closed terminal, the reply is kept as a ctrl+c keeps it.
    raise_on_stop_signals()
    no_model_with_remote(model, connect)
    # --model asks for another model than a local server's: the data dir is borrowed instead.
    with reach(connect, write=True, model=model, on_wait=note) as where:
        if not isinstance(where, Here):
            _say_through(
                where, text, session=session, new=new, memory=not no_memory, as_json=as_json
            )
            return
        result = _say_here(
            where, text, session=session, new=new, no_memory=no_memory, as_json=as_json
        )
    if result.status == "interrupted":
        raise typer.Exit(exit_code(received()))


def _say_here(
    here: Here, text: str, *, session: int | None, new: bool, no_memory: bool, as_json: bool
) -> TurnResult:
    """`hearth say` in the data dir opened here (borrowed from the chat, if it holds it)."""
    from agent.startup import load_agent
    from agent.turn import check_length

    check_length(text, here.home.settings.chat)  # before seconds of model loading
    agent = load_agent(here.home, memory=not no_memory)
    if getattr(agent.backend, "template_fallback", False):
        warn(f"{agent.model.name} has no chat template; using ChatML")
    if no_memory and session is None and here.borrowed:
        # Beside the open chat an off-record turn starts its own session: leaving purges
        # the session's off-record messages, and the chat's own must stay.
        new = True
    sess = agent.session(session, new=new)
    if no_memory:
        # stderr only: scripts read the reply from stdout.
        note(OFF_RECORD_NOTE)
    try:
        result = agent.run_turn(
            sess.id,
            text,
            on_piece=None if as_json else _echo,
            stop=stop_requested,
            use_memory=not no_memory,
        )
        if as_json:
            print_json(result.model_dump())
        else:
            sys.stdout.write("\n")
            sys.stdout.flush()
    finally:
        if no_memory:
            agent.leave(sess.id)
    return result


def _say_through(
    client: Client, text: str, *, session: int | None, new: bool, memory: bool, as_json: bool
) -> None:
    """`hearth say` run by a Hearth server (agent/serving/): the same turn, on its model."""
    from agent.serving.schemas import TurnRequest

    if not memory:
        note(OFF_RECORD_NOTE)
    from memory.settings import load_settings, resolve_paths

    # This command's own sampling settings apply there too (config.toml, HEARTH_SAMPLING__*).
    sampling = load_settings(resolve_paths()).sampling
    request = TurnRequest(text=text, session=session, new=new, memory=memory, sampling=sampling)
    result = client.turn(request, on_piece=None if as_json else _echo)
    if as_json:
        print_json(result)
    else:
        sys.stdout.write("\n")
        sys.stdout.flush()
    if result.get("status") == "interrupted":
        raise typer.Exit(exit_code(received()))


def regenerate(
    turn: TurnArg,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A GGUF file to reply with.")
    ] = None,
    as_json: JsonTextOpt = False,
) -> None:
    """Write a new reply beside reply TURN (or to your message TURN); the new one is kept."""
    from agent.feedback import not_a_dream
    from agent.feedback import regenerate as regenerate_reply
    from agent.startup import load_agent

    with opened(write=True, model=model) as here:
        not_a_dream(here.home.journal, turn)  # before seconds of model loading
        agent = load_agent(here.home)
        result = regenerate_reply(agent, turn, on_piece=None if as_json else _echo)
        versions = [m.id for m in here.home.journal.siblings(result.turn_id)]
    if as_json:
        print_json({**result.model_dump(), "siblings": versions})
    else:
        sys.stdout.write("\n")
        others = ", ".join(f"#{i}" for i in versions if i != result.turn_id) or "none"
        note(f"reply #{result.turn_id} ({result.status}); other versions: {others}")
    if result.status == "interrupted":
        raise typer.Exit(130)


def choose(turn: TurnArg, as_json: JsonTextOpt = False) -> None:
    """Keep reply TURN over its other versions (by default the latest is kept)."""
    from agent.feedback import choose as choose_reply

    with opened() as here:
        kept = choose_reply(here.home.journal, turn)
        versions = [m.id for m in here.home.journal.siblings(kept.id)]
    if as_json:
        print_json({"kept": kept.id, "parent_id": kept.parent_id, "siblings": versions})
        return
    others = ", ".join(f"#{i}" for i in versions if i != kept.id) or "none"
    out.print(f"kept #{kept.id}; alternatives: {others}", markup=False, highlight=False)


def edit(
    turn: TurnArg,
    text: Annotated[str, typer.Argument(help="The corrected text.")],
    reply: Annotated[
        bool, typer.Option("--reply", help="After editing your own message, reply to it.")
    ] = False,
    as_json: JsonTextOpt = False,
) -> None:
    """Store a corrected version of message TURN; the original stays.

    An edited reply becomes the kept version (a DPO pair: edit over original). An edited user
    message starts a new branch from the same point; --reply answers it at once.
    """
    from agent.feedback import edit as edit_message

    with opened() as here:
        edited = edit_message(here.home.journal, turn, text)
    result = None
    if reply and edited.role == "user":
        from agent.feedback import regenerate as regenerate_reply
        from agent.startup import load_agent

        with opened(write=True) as here:
            result = regenerate_reply(
                load_agent(here.home), edited.id, on_piece=None if as_json else _echo
            )
        if not as_json:
            sys.stdout.write("\n")
    if as_json:
        print_json(
            {
                "id": edited.id,
                "edit_of": turn,
                "role": edited.role,
                "reply": result.model_dump() if result else None,
            }
        )
        return
    note(f"#{edited.id} is the edited version of #{turn}; #{turn} stays in the journal")


def feedback(
    turn: TurnArg,
    up: Annotated[bool, typer.Option("--up", help="Thumbs up: a reply to learn from.")] = False,
    down: Annotated[bool, typer.Option("--down", help="Thumbs down: a reply to avoid.")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the thumb (unrated).")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Say what was right or wrong.")] = None,
    as_json: JsonTextOpt = False,
) -> None:
    """Rate reply TURN: --up (+1), --down (-1) or --clear (0), and/or leave a --note."""
    if up + down + clear > 1:
        raise typer.BadParameter("give one of --up, --down and --clear")
    if not (up or down or clear) and note is None:
        raise typer.BadParameter("give --up, --down, --clear or --note TEXT")
    from agent.feedback import feedback as rate

    rating = 1 if up else -1 if down else 0 if clear else None
    with opened() as here:
        found = rate(here.home.journal, turn, rating=rating, note=note)
    if as_json:
        print_json(found.model_dump(mode="json"))
        return
    thumb = {1: "thumbs up", -1: "thumbs down", 0: "unrated"}[found.rating]
    extra = f"; note: {found.note}" if found.note else ""
    out.print(f"#{turn}: {thumb}{extra}", markup=False, highlight=False)
