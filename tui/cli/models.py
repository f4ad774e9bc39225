"""`hearth models ...`: the GGUF files Hearth can find, and how llama.cpp would run one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from memory.errors import HearthError
from memory.settings import ModelSettings, Paths, resolve_paths
from tui.cli import models_pull
from tui.cli.options import JsonOpt
from tui.cli.output import err, out, print_json

models_app = typer.Typer(help="Find, fetch and inspect GGUF models.", no_args_is_help=True)


@models_app.command("list")
def models_list(
    as_json: JsonOpt = False,
    catalog: Annotated[
        bool,
        typer.Option("--catalog", help="List the models `hearth models pull NAME` knows instead."),
    ] = False,
) -> None:
    """GGUF files Hearth can find: the data dir's models/, the checkout's models/, the default;
    the one the chat replies with is marked `*` (`in_use` in JSON)."""
    from agent.runtime.gguf import read_info
    from agent.runtime.model_files import available_models, resolve_model
    from memory.settings import load_settings

    if catalog:
        models_pull.catalog_table(as_json)
        return
    paths = resolve_paths()
    settings = load_settings(paths)
    # Under the openai backend a server replies: no file here is in use.
    in_use = (
        resolve_model(settings.model.path, paths.models_dir).path.resolve()
        if settings.model.backend == "llama-cpp"
        else None
    )
    rows: list[dict[str, Any]] = []
    for found in available_models(paths.models_dir):
        used = {"in_use": found.path.resolve() == in_use}
        try:
            info = read_info(found.path)
            rows.append(
                {"source": found.source, **info.model_dump(exclude={"chat_template"}), **used}
            )
        except HearthError as exc:
            rows.append(
                {"source": found.source, "path": str(found.path), "error": str(exc), **used}
            )
    if as_json:
        print_json(rows)
        return
    table = Table("", "name", "arch", "quant", "ctx", "template", "source", "path", box=None)
    for r in rows:
        table.add_row(
            "*" if r["in_use"] else "",
            Text(r.get("name", "?")),  # from the file: no markup
            r.get("architecture", "?"),
            str(r.get("quantization", "")),
            str(r.get("context_length", "")),
            "yes" if r.get("has_chat_template") else "no",
            r["source"],
            r["path"],
        )
    out.print(table, soft_wrap=True)


models_app.command("pull")(models_pull.pull)
models_app.command("use")(models_pull.use_model)


@models_app.command("info")
def models_info(
    path: Annotated[
        Path | None,
        typer.Argument(help="A GGUF file (default: the model Hearth would load)."),
    ] = None,
    probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="Load the model and run the memory extractor's probe now (its decision is kept).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """A GGUF's metadata (name, architecture, context length, quantization, template), how
    llama.cpp runs it here (the CPU features it uses, the extra-buffer-types choice) and the
    memory extractor it gets (memory.extractor, and the probe's decision under `auto`)."""
    from agent.learn.choice import choose, served
    from agent.runtime.model_files import describe_model
    from memory.settings import load_settings

    paths = resolve_paths()
    settings = load_settings(paths)
    report = describe_model(path, settings.model, paths.models_dir)
    model = Path(report.info.path)
    if probe:
        _probe(model, settings.model, paths)
    if settings.model.backend == "llama-cpp" or path is not None:
        extractor = choose(settings.memory.extractor, model, report.info.parameters, paths)
    else:  # the chat replies through a server: this file is not what it would load
        extractor = served(settings.memory.extractor)
    data: dict[str, Any] = {
        **report.info.model_dump(exclude={"chat_template"}),
        "source": report.source,
        "system_info": report.system_info,
        "extra_buffer_types": report.extra_buffers.model_dump(),
        "memory_extractor": extractor.model_dump(mode="json"),
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
    out.print(
        f"memory extractor: {extractor.line()}", markup=False, highlight=False, soft_wrap=True
    )


def _probe(model: Path, settings: ModelSettings, paths: Paths) -> None:
    """The extractor probe over `model`, its decision saved for `auto` (agent/learn/probe.py)."""
    from agent.learn.model_extract import ModelExtractor
    from agent.learn.probe import run_probe, save
    from agent.runtime.backend import LlamaBackend
    from agent.runtime.native_log import stderr_to
    from agent.upkeep import ensure_data_dir

    ensure_data_dir(paths.data_dir)
    with err.status("running the memory extractor's probe"):
        with stderr_to(paths.log_file):
            backend = LlamaBackend(model, settings)
        save(
            paths.extractor_probe, run_probe(model, ModelExtractor(backend, keep_cache=False).read)
        )
