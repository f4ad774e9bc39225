"""`hearth config ...`: where config.toml and the data dir live, and the settings in force."""

from __future__ import annotations

import json
from typing import Any

import typer

from memory.settings import resolve_paths
from tui.cli.options import JsonOpt
from tui.cli.output import out, print_json

config_app = typer.Typer(help="Where the config lives and what is in force.", no_args_is_help=True)


@config_app.command("path")
def config_path() -> None:
    """Print where config.toml lives (it may not exist yet) and the data dir."""
    paths = resolve_paths()
    out.print(f"config: {paths.config_file}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"data:   {paths.data_dir}", markup=False, highlight=False, soft_wrap=True)


@config_app.command("show")
def config_show(as_json: JsonOpt = False) -> None:
    """Print the settings in force (defaults, config.toml and HEARTH_* merged)."""
    from memory.settings import load_settings

    settings = load_settings(resolve_paths())
    data = settings.model_dump(mode="json")
    if as_json:
        print_json(data)
    else:
        _print_sections(data)
    _check_template(settings.model.chat_template)


def _print_sections(data: dict[str, Any]) -> None:
    for section, values in data.items():
        out.print(f"[bold]\\[{section}][/]", soft_wrap=True)
        for key, value in values.items():
            out.print(f"{key} = {json.dumps(value)}", markup=False, highlight=False, soft_wrap=True)


def _check_template(source: str | None) -> None:
    """A template a turn would refuse is said here too (exit 3), rendered in the Jinja sandbox
    without loading llama.cpp."""
    from agent.runtime.template_check import template_problem
    from memory.errors import ConfigError

    problem = template_problem(source) if source is not None else None
    if problem is not None:
        raise ConfigError(
            f"model.chat_template {problem}; fix it, or remove it to use the model's own"
        )
