"""`hearth config ...`: where config.toml and the data dir live, and the settings in force."""

from __future__ import annotations

import json

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
        return
    for section, values in data.items():
        out.print(f"[bold]\\[{section}][/]", soft_wrap=True)
        for key, value in values.items():
            out.print(f"{key} = {json.dumps(value)}", markup=False, highlight=False, soft_wrap=True)
