"""The `hearth` command line: chat, one-shot turns, and reading the journal, models and config."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from memory.errors import HearthError
from memory.settings import resolve_paths
from tui.cli import importing, training
from tui.cli.bench import bench_app
from tui.cli.memory import memory_app

app = typer.Typer(
    help="Hearth: a local companion that remembers you.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logs_app = typer.Typer(help="Read the conversation journal.", no_args_is_help=True)
models_app = typer.Typer(help="Find and inspect GGUF models.", no_args_is_help=True)
config_app = typer.Typer(help="Where the config lives and what is in force.", no_args_is_help=True)
app.add_typer(logs_app, name="logs")
app.add_typer(models_app, name="models")
app.add_typer(config_app, name="config")
app.add_typer(memory_app, name="memory")
app.add_typer(bench_app, name="bench")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="A GGUF file to chat with.", dir_okay=False)
]
NoMemoryOpt = Annotated[
    bool,
    typer.Option("--no-memory", help="A temporary chat: no memory is read or written."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _overrides(model: Path | None) -> dict[str, Any]:
    return {"model": {"path": model}} if model is not None else {}


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def _warn(message: str) -> None:
    err.print(f"[yellow]hearth: warning:[/] {escape(message)}", highlight=False)


def _report_crashes() -> list[str]:
    """Every command starts by saying, in one line each, which earlier runs died and where."""
    from agent.runtime.crashes import past_crashes

    paths = resolve_paths()
    lines = [crash.line() for crash in past_crashes(paths.runs_dir, paths.log_file)]
    for line in lines:
        _warn(line)
    return lines


@app.callback(invoke_without_command=True)
def chat(
    ctx: typer.Context,
    new: Annotated[bool, typer.Option("--new", help="Start a fresh session.")] = False,
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Open this session.")
    ] = None,
    model: ModelOpt = None,
    no_memory: NoMemoryOpt = False,
) -> None:
    """Open the chat on the most recent session (or a new one)."""
    crashes = _report_crashes()
    if ctx.invoked_subcommand is not None:
        return
    from agent.startup import open_home, pick_model
    from tui.app import run_app

    home = open_home(_overrides(model), write_lock=True)
    try:
        # Checked before the screen opens: a bad session or model file is one line and an
        # exit code, like every other command, not a notification in a UI that then exits 0.
        if session is not None:
            home.journal.session(session)
        pick_model(home)
        code = run_app(home, session_id=session, new=new, memory=not no_memory, notices=crashes)
    finally:
        home.close()
    raise typer.Exit(code)


@app.command()
def say(
    message: Annotated[str, typer.Argument(help="What to say.")],
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Talk in this session.")
    ] = None,
    new: Annotated[bool, typer.Option("--new", help="Start a fresh session.")] = False,
    model: ModelOpt = None,
    no_memory: NoMemoryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run one turn headless and print the reply (continues the most recent session)."""
    from agent.startup import load_agent, open_home

    home = open_home(_overrides(model), write_lock=True)
    try:
        agent = load_agent(home, memory=not no_memory)
        if getattr(agent.backend, "template_fallback", False):
            _warn(f"{agent.model.name} has no chat template; using ChatML")
        sess = agent.session(session, new=new)
        result = agent.run_turn(
            sess.id, message, on_piece=None if as_json else _echo, use_memory=not no_memory
        )
    finally:
        home.close()
    if as_json:
        _print_json(result.model_dump())
    else:
        sys.stdout.write("\n")
    if result.status == "interrupted":
        raise typer.Exit(130)


def _echo(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


@app.command("sleep")
def sleep_cmd(as_json: JsonOpt = False) -> None:
    """Consolidate memory: merge near-duplicates, link related memories, write reflections
    over recurring episodes, decay what is never recalled. A second run changes nothing."""
    from agent.learn.consolidation import sleep
    from agent.startup import open_home
    from memory.journal.journal import now

    home = open_home(write_lock=True)
    try:
        report = sleep(home.open_store(), at=now())
    finally:
        home.close()
    if as_json:
        _print_json(report.model_dump())
        return
    out.print(
        f"merged {len(report.merged)} duplicate(s), linked {len(report.linked)} pair(s), "
        f"wrote {len(report.reflections)} reflection(s), decayed {len(report.decayed)} "
        "memory(ies)" + ("" if report.changed else ": nothing to change")
    )


# -- logs ---------------------------------------------------------------------------------


@logs_app.command("list")
def logs_list(
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Only this session.")
    ] = None,
    n: Annotated[int, typer.Option("-n", help="How many messages.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List messages, newest first."""
    from agent.startup import open_home

    home = open_home()
    try:
        msgs = home.journal.messages(session_id=session, limit=n)
    finally:
        home.close()
    if as_json:
        _print_json([m.model_dump(mode="json", exclude={"prompt"}) for m in msgs])
        return
    table = Table("id", "session", "when", "role", "status", "text", box=None)
    for m in msgs:
        snippet = m.text.replace("\n", " ")
        table.add_row(
            str(m.id),
            str(m.session_id),
            m.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            m.role,
            m.status,
            snippet[:70] + ("…" if len(snippet) > 70 else ""),
        )
    out.print(table)


@logs_app.command("show")
def logs_show(
    message_id: Annotated[int, typer.Argument(help="A message id from `hearth logs list`.")],
    prompt: Annotated[bool, typer.Option("--prompt", help="Show what the model saw.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one message; with --prompt, the exact messages the model saw for that reply."""
    from agent.startup import open_home

    home = open_home()
    try:
        msg = home.journal.message(message_id)
    finally:
        home.close()
    if prompt:
        shown = [m.model_dump() for m in msg.prompt or []]
        if as_json:
            _print_json({"messages": shown})
            return
        for m in shown:
            out.rule(m["role"])
            out.print(m["content"], markup=False, highlight=False)
        return
    if as_json:
        _print_json(msg.model_dump(mode="json"))
        return
    out.print(
        f"[bold]#{msg.id}[/] {msg.role} · {msg.status} · session {msg.session_id} · "
        f"{msg.created_at.astimezone():%Y-%m-%d %H:%M:%S}"
    )
    if msg.model:
        u = msg.usage
        out.print(
            f"model {msg.model.name} · prompt {u.prompt_tokens} tokens"
            f" · reply {u.completion_tokens} tokens"
        )
    out.print(msg.text, markup=False, highlight=False)


@logs_app.command("path")
def logs_path() -> None:
    """Print where the journal lives."""
    out.print(str(resolve_paths().journal), markup=False, highlight=False)


@logs_app.command("status")
def logs_status(as_json: JsonOpt = False) -> None:
    """Counts and the journal's location and schema version."""
    from agent.startup import open_home

    home = open_home()
    try:
        info: dict[str, Any] = {
            "path": str(home.paths.journal),
            "schema_version": home.journal.schema_version(),
            **home.journal.counts(),
        }
    finally:
        home.close()
    if as_json:
        _print_json(info)
        return
    for key, value in info.items():
        out.print(f"{key}: {value}", markup=False, highlight=False)


# -- models -------------------------------------------------------------------------------


@models_app.command("list")
def models_list(as_json: JsonOpt = False) -> None:
    """GGUF files Hearth can find: the data dir's models/, the checkout's models/, the default."""
    from agent.runtime.gguf import read_info
    from agent.runtime.model_files import available_models

    rows: list[dict[str, Any]] = []
    for found in available_models(resolve_paths().models_dir):
        try:
            info = read_info(found.path)
            rows.append({"source": found.source, **info.model_dump(exclude={"chat_template"})})
        except HearthError as exc:
            rows.append({"source": found.source, "path": str(found.path), "error": str(exc)})
    if as_json:
        _print_json(rows)
        return
    table = Table("name", "arch", "quant", "ctx", "template", "source", "path", box=None)
    for r in rows:
        table.add_row(
            r.get("name", "?"),
            r.get("architecture", "?"),
            str(r.get("quantization", "")),
            str(r.get("context_length", "")),
            "yes" if r.get("has_chat_template") else "no",
            r["source"],
            r["path"],
        )
    out.print(table)


@models_app.command("info")
def models_info(
    path: Annotated[
        Path | None,
        typer.Argument(help="A GGUF file (default: the model Hearth would load)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A GGUF's metadata (name, architecture, context length, quantization, template) and how
    llama.cpp runs it here: the CPU features it uses and the extra-buffer-types choice."""
    from agent.runtime.model_files import describe_model
    from memory.settings import load_settings

    paths = resolve_paths()
    report = describe_model(path, load_settings(paths).model, paths.models_dir)
    data: dict[str, Any] = {
        **report.info.model_dump(exclude={"chat_template"}),
        "source": report.source,
        "system_info": report.system_info,
        "extra_buffer_types": report.extra_buffers.model_dump(),
    }
    if as_json:
        _print_json(data)
        return
    for key, value in report.info.model_dump(exclude={"chat_template"}).items():
        out.print(f"{key}: {value}", markup=False, highlight=False)
    choice = report.extra_buffers
    out.print(f"source: {report.source}", markup=False, highlight=False)
    out.print(
        f"extra_buffer_types: {choice.setting} -> {'on' if choice.use else 'off'} "
        f"({choice.reason})",
        markup=False,
        highlight=False,
    )
    out.print(f"llama.cpp: {report.system_info}", markup=False, highlight=False)


# -- config -------------------------------------------------------------------------------


@config_app.command("path")
def config_path() -> None:
    """Print where config.toml lives (it may not exist yet) and the data dir."""
    paths = resolve_paths()
    out.print(f"config: {paths.config_file}", markup=False, highlight=False)
    out.print(f"data:   {paths.data_dir}", markup=False, highlight=False)


@config_app.command("show")
def config_show(as_json: JsonOpt = False) -> None:
    """Print the settings in force (defaults, config.toml and HEARTH_* merged)."""
    from memory.settings import load_settings

    settings = load_settings(resolve_paths())
    data = settings.model_dump(mode="json")
    if as_json:
        _print_json(data)
        return
    for section, values in data.items():
        out.print(f"[bold]\\[{section}][/]")
        for key, value in values.items():
            out.print(f"{key} = {json.dumps(value)}", markup=False, highlight=False)


training.register(app)
importing.register(app)


def main() -> None:
    """Entry point: user-caused errors print one line and exit with their own code."""
    # Without a handler, logging's last resort would print tracebacks on the screen.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        # Not standalone: click would print its own tracebacks; a typer.Exit comes back as a code.
        code = app(standalone_mode=False)
    except HearthError as exc:
        logging.getLogger("hearth").error("%s", exc, exc_info=True)
        err.print(f"[red]hearth:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except typer.exceptions.TyperException as exc:  # usage errors from typer's own click
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except Exception as exc:  # the traceback goes to the log, not the screen
        logging.getLogger("hearth").error("unexpected error", exc_info=True)
        where = resolve_paths().log_file
        err.print(f"[red]hearth:[/] unexpected error: {escape(str(exc))} (details in {where})")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
