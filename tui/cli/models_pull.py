"""`hearth models pull` and `hearth models use`: a better model than the embedded one, chosen
by the person (a download never silently becomes the chat's model)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from memory.errors import ModelNotFoundError
from memory.settings import resolve_paths
from tui.cli.options import JsonOpt
from tui.cli.output import err, out, print_json


def _progress_bar() -> type[Any]:
    """huggingface_hub's bar (HF_HUB_DISABLE_PROGRESS_BARS hides it), shown in a log too (tqdm
    hides itself off a terminal), where it is drawn less often. Made on use: every `hearth`
    command imports this module, and huggingface_hub takes a while to import."""
    from huggingface_hub.utils.tqdm import tqdm

    class Bar(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = False
            kwargs["file"] = sys.stderr
            if not sys.stderr.isatty():
                kwargs["mininterval"] = 5.0
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

    return Bar


def note(message: str) -> None:
    """A dim line on stderr, never wrapped (it names files and commands to copy)."""
    err.print(message, style="dim", markup=False, highlight=False, soft_wrap=True)


def pull(
    name: Annotated[
        str,
        typer.Argument(
            help="A name from `hearth models list --catalog`, or a Hub repository (owner/name) "
            "followed by FILE.",
            show_default=False,
        ),
    ],
    file: Annotated[
        str | None,
        typer.Argument(help="The GGUF file in that repository.", show_default=False),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option("--revision", help="A branch, tag or commit of the repository."),
    ] = None,
    use: Annotated[
        bool, typer.Option("--use", help="Chat with it from now on (else: asked on a terminal).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Download a GGUF from the Hugging Face Hub into the data dir's models/: free disk checked
    first, a progress bar, a cut connection resumed, and the file's sha256 checked against the
    Hub's before it is put in place. Offline, refused or a bad checksum: exit 24, nothing left
    where a model is looked for."""
    from agent.runtime.catalog import CATALOG
    from agent.runtime.pull import already_here, check_disk, download, look_up, place

    if file is None:
        known = CATALOG.get(name)
        if known is None:
            raise typer.BadParameter(
                f"{name!r} is not in the catalog ({', '.join(CATALOG)}); "
                "or give a repository and a file: `hearth models pull OWNER/REPO FILE.gguf`"
            )
        repo, file = known.repo, known.file
        if known.note:
            note(f"{known.name}: {known.licence}; {known.note}")
    else:
        repo = name
    if not file.endswith(".gguf"):
        raise typer.BadParameter(f"{file!r} is not a .gguf file")
    models_dir = resolve_paths().models_dir
    with err.status(f"asking the Hugging Face Hub about {repo}/{file}"):
        remote = look_up(repo, file, revision)
    with err.status(f"checking whether {remote.local_name} is already in models/"):
        here = already_here(remote, models_dir)
    if here is not None:
        note(f"{remote.local_name} is already in {models_dir}, whole")
    else:
        check_disk(remote, models_dir)
        downloaded = download(remote, models_dir, progress=_progress_bar())
        with err.status(f"checking the sha256 of {remote.local_name}"):
            here = place(remote, downloaded, models_dir)
    in_use = _choose(here, use)
    if as_json:
        print_json({**remote.model_dump(), "path": str(here), "in_use": in_use})
        return
    out.print(f"pulled {here}", markup=False, highlight=False, soft_wrap=True)


def _choose(path: Path, use: bool) -> bool:
    """Whether the chat replies with the pulled file from now on: --use, else asked on a
    terminal; without one, the chat keeps its model and the file is passed over."""
    from agent.runtime.model_files import read_choice, resolve_model, write_choice
    from memory.settings import load_settings

    paths = resolve_paths()
    choice = read_choice(paths.models_dir)
    if not use and choice.use == path.name:
        return True  # pulled again: already the chosen one
    if not use and sys.stdin.isatty():
        # Asked on stderr: stdout stays the command's output (--json).
        use = typer.confirm(f"Chat with {path.stem} from now on?", default=True, err=True)
    if use:
        choice.use = path.name
        choice.passed_over = [n for n in choice.passed_over if n != path.name]
    elif path.name not in choice.passed_over:
        choice.passed_over.append(path.name)
    write_choice(paths.models_dir, choice)
    settings = load_settings(paths)
    current = resolve_model(settings.model.path, paths.models_dir).path
    if use and current.resolve() != path.resolve():
        note(
            f"model.path ({settings.model.path}) still names another model; unset it to chat "
            f"with {path.name}"
        )
    elif not use:
        note(f"the chat keeps {current.name}; `hearth models use {path.name}` switches to it")
    return current.resolve() == path.resolve()


def use_model(
    name: Annotated[
        str,
        typer.Argument(
            help="A GGUF file in the data dir's models/ (or a catalog name pulled before).",
            show_default=False,
        ),
    ],
) -> None:
    """Chat with this GGUF from models/ from now on (kept in models/chosen.json; `--model` and
    model.path still come first)."""
    from agent.runtime.catalog import CATALOG
    from agent.runtime.model_files import read_choice, write_choice

    models_dir = resolve_paths().models_dir
    file = CATALOG[name].file if name in CATALOG else Path(name).name
    if not (models_dir / file).is_file():
        raise ModelNotFoundError(
            f"no {file} in {models_dir}: `hearth models pull` it first, or copy it there"
        )
    choice = read_choice(models_dir)
    choice.use = file
    choice.passed_over = [n for n in choice.passed_over if n != file]
    write_choice(models_dir, choice)
    out.print(f"the chat now replies with {file}", markup=False, highlight=False, soft_wrap=True)


def catalog_table(as_json: bool) -> None:
    """`hearth models list --catalog`: what `hearth models pull NAME` knows."""
    from agent.runtime.catalog import CATALOG

    if as_json:
        print_json([m.model_dump() for m in CATALOG.values()])
        return
    table = Table("name", "size", "licence", "arch", "repository", "file", box=None)
    for m in CATALOG.values():
        table.add_row(m.name, m.size, m.licence, m.architecture, m.repo, m.file)
    out.print(table, soft_wrap=True)
