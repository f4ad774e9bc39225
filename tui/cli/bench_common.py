"""What the `hearth bench` commands share: their progress lines and the user's model settings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypedDict

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tui.cli.output import err

if TYPE_CHECKING:
    from memory.settings import ModelSettings, Settings


BenchModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="A GGUF (default: the embedded model).")
]


def share(part: int, whole: int) -> str:
    """`part` as a percentage of `whole` ("-" when there is no whole)."""
    return f"{part / whole:.1%}" if whole else "-"


def per_100(part: int, turns: int) -> str:
    """`part` per 100 turns ("-" when there are none)."""
    return f"{100 * part / turns:.1f}" if turns else "-"


@contextlib.contextmanager
def status() -> Iterator[Callable[[str], None]]:
    """A line on stderr saying what a bench is doing, with the time so far; yields its setter."""
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("starting")
        yield lambda text: bar.update(task, description=text)


class TurnsBar(TypedDict):
    on_total: Callable[[int], None]
    advance: Callable[[int], None]
    describe: Callable[[str], None]


@contextlib.contextmanager
def turns_bar(as_json: bool) -> Iterator[TurnsBar]:
    """One bar over a dataset bench's turns (gone once done when the output is JSON); yields
    the callbacks `run_retrieval_bench` and `run_extraction_bench` report through."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=as_json) as progress:
        task = progress.add_task("loading", total=None)
        yield TurnsBar(
            on_total=lambda n: progress.update(task, total=n),
            advance=lambda n: progress.advance(task, n),
            describe=lambda text: progress.update(task, description=text),
        )


def user_settings() -> Settings:
    """The user's settings, from config and HEARTH_* (the data dir is never touched)."""
    from memory.settings import load_settings, resolve_paths

    return load_settings(resolve_paths())


def model_settings() -> ModelSettings:
    """The user's model settings (for the CPU path and batch size), from config and HEARTH_*."""
    return user_settings().model
