"""`hearth models ...`: the GGUF files Hearth can find, and how llama.cpp would run one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from memory.errors import HearthError
from memory.settings import resolve_paths
from tui.cli.options import JsonOpt
from tui.cli.output import out, print_json

models_app = typer.Typer(help="Find and inspect GGUF models.", no_args_is_help=True)


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
        print_json(rows)
        return
    table = Table("name", "arch", "quant", "ctx", "template", "source", "path", box=None)
    for r in rows:
        table.add_row(
            Text(r.get("name", "?")),  # from the file: no markup
            r.get("architecture", "?"),
            str(r.get("quantization", "")),
            str(r.get("context_length", "")),
            "yes" if r.get("has_chat_template") else "no",
            r["source"],
            r["path"],
        )
    out.print(table, soft_wrap=True)


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
        print_json(data)
        return
    for key, value in report.info.model_dump(exclude={"chat_template"}).items():
        out.print(f"{key}: {value}", markup=False, highlight=False, soft_wrap=True)
    choice = report.extra_buffers
    out.print(f"source: {report.source}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"extra_buffer_types: {choice.setting} -> {choice.summary}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"llama.cpp: {report.system_info}", markup=False, highlight=False, soft_wrap=True)
