"""The `hearth` command line: the root app (opening the chat), its command groups, `main()`."""

from __future__ import annotations

import errno
import logging
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from agent.failures import corrupt_error, full_disk, is_corruption
from memory.errors import HearthError, StorageError
from memory.settings import load_settings, resolve_paths
from tui.cli import (
    bench,
    chat,
    config,
    doctor,
    dream,
    importing,
    logs,
    memory,
    models,
    score,
    serve,
    training,
    understanding,
)
from tui.cli.options import (
    ConnectOpt,
    ModelOpt,
    NoMemoryOpt,
    no_model_with_remote,
)
from tui.cli.output import err, guard_closed_pipe, warn
from tui.stop_signals import Terminated, exit_code

if TYPE_CHECKING:
    from agent.serving.client import Client

app = typer.Typer(
    help="Hearth: a local companion that remembers you.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# `hearth --help` lists commands and groups in the order they are added here.
app.command()(chat.say)
app.command("sleep")(memory.sleep_cmd)
app.command()(chat.regenerate)
app.command()(chat.choose)
app.command()(chat.edit)
app.command()(chat.feedback)
app.command()(score.score)
app.command()(understanding.understanding)
app.command()(training.export)
app.command("import")(importing.import_file)
app.command()(serve.serve)
app.command()(doctor.doctor)
app.command()(doctor.backup)
app.command()(doctor.restore)
app.add_typer(logs.logs_app, name="logs")
app.add_typer(models.models_app, name="models")
app.add_typer(config.config_app, name="config")
app.add_typer(memory.memory_app, name="memory")
app.add_typer(dream.dream_app, name="dream")
app.add_typer(bench.bench_app, name="bench")


def _report_crashes() -> list[str]:
    """Every command starts by saying, in one line each, which earlier runs died and where."""
    from agent.runtime.crashes import past_crashes

    paths = resolve_paths()
    lines = [crash.line() for crash in past_crashes(paths.runs_dir, paths.log_file)]
    for line in lines:
        warn(line)
    return lines


@app.callback(invoke_without_command=True)
def chat_callback(
    ctx: typer.Context,
    new: Annotated[bool, typer.Option("--new", help="Start a fresh session.")] = False,
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Open this session.")
    ] = None,
    model: ModelOpt = None,
    no_memory: NoMemoryOpt = False,
    connect: ConnectOpt = None,
) -> None:
    """Open the chat on the most recent session (or a new one)."""
    crashes = _report_crashes()
    if ctx.invoked_subcommand is not None:
        return
    no_model_with_remote(model, connect)
    # A Hearth served elsewhere, or the `hearth serve` holding this data dir (it has the model
    # loaded; --model asks for another one, which it refuses as any holder does). The chat
    # holds the data dir for as long as it is open: it never borrows it.
    from agent.access import Here, reach

    with reach(connect, write=True, model=model, borrow=False) as where:
        if not isinstance(where, Here):
            raise typer.Exit(_chat_remote(where, session, new, not no_memory))
        from agent.startup import check_model
        from tui.app import run_app

        home = where.home
        # Checked before the screen opens: a bad session or model file is one line and an
        # exit code, like every other command, not a notification in a UI that then exits 0.
        if session is not None:
            home.journal.session(session)
        check_model(home)
        code = run_app(home, session_id=session, new=new, memory=not no_memory, notices=crashes)
    raise typer.Exit(code)


def _chat_remote(client: Client, session: int | None, new: bool, memory: bool) -> int:
    """The chat against a Hearth served elsewhere: no data dir opened here, no model loaded.
    A server that does not answer (or refuses the token, or has no such session) is one line
    and an exit code before the screen opens."""
    from agent.serving.conversation import ServedConversation
    from tui.app import run_app

    chat = load_settings(resolve_paths()).chat
    client.status()
    if session is not None:
        client.thread(session)
    return run_app(ServedConversation(client, chat), session_id=session, new=new, memory=memory)


def command_path(argv: list[str]) -> str:
    """`hearth logs list` from `logs list -n 5`: the command words only, never what follows
    them (a message to `say` stays out of run markers and crash reports)."""
    words = ["hearth"]
    command: object = typer.main.get_command(app)
    for arg in argv:
        sub = getattr(command, "commands", {}).get(arg)  # a group's subcommands by name
        if sub is None:
            if arg.startswith("-"):
                continue  # an option of the group before its command (`--model X` is rare)
            break
        words.append(arg)
        command = sub
    return " ".join(words)


class _NoticeHandler(logging.Handler):
    """Notices from below (a broken memory index rebuilt) as one warning line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        warn(record.getMessage())


def main() -> None:
    """Entry point: user-caused errors print one line and exit with their own code."""
    from agent.runtime.crashes import name_runs

    # Without a handler, logging's last resort would print tracebacks on the screen.
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger("hearth.notice").addHandler(_NoticeHandler())
    name_runs(command_path(sys.argv[1:]))
    # `hearth say ... | head -2`: the reader leaving ends the printing, never the turn (README).
    guard = guard_closed_pipe()
    try:
        _run()
    finally:
        if guard is not None and guard.reader_left:
            logging.getLogger("hearth").info(
                "stdout was closed before the output ended (its reader left): the rest of the "
                "output was dropped, the command went on"
            )


def _run() -> None:
    """The command, its errors as one line and an exit code each."""
    try:
        # Not standalone: click would print its own tracebacks; a typer.Exit comes back as a code.
        code = app(standalone_mode=False)
    except HearthError as exc:
        # A full disk (or a folder that cannot be written) is said in one line, here too: a
        # traceback would take the last bytes the disk has, run after run.
        trace = not isinstance(exc, StorageError)
        logging.getLogger("hearth").error("%s", exc, exc_info=trace)
        err.print(f"[red]hearth:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt) as exc:
        # click turns a KeyboardInterrupt (and so SIGTERM's Terminated) into Abort.
        cause = exc if isinstance(exc, Terminated) else exc.__cause__
        sys.exit(exit_code(cause.signum if isinstance(cause, Terminated) else None))
    except typer.exceptions.TyperException as exc:  # usage errors from typer's own click
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except Exception as exc:  # the traceback goes to the log, not the screen
        where = resolve_paths().log_file
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            reason = full_disk(where) or "the disk is full; free some space and try again"
            full = StorageError(f"could not save to {where.parent}: {reason}")
            logging.getLogger("hearth").error("%s", full)
            err.print(f"[red]hearth:[/] {escape(str(full))}", highlight=False, soft_wrap=True)
            sys.exit(full.exit_code)
        logging.getLogger("hearth").error("unexpected error", exc_info=True)
        if is_corruption(exc):
            # Damage past what the check at open reads (large files): still one line and a fix.
            damaged = corrupt_error(where.parent, "data dir", exc)
            err.print(f"[red]hearth:[/] {escape(str(damaged))}", highlight=False, soft_wrap=True)
            sys.exit(damaged.exit_code)
        err.print(
            f"[red]hearth:[/] unexpected error: {escape(str(exc))} (details in {where})",
            soft_wrap=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
