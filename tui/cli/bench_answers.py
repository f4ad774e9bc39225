"""`hearth bench answers`: does memory make the reply right (the personal set, a data set)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.options import JsonBenchOpt
from tui.cli.output import err, out, print_json


def bench_answers(
    personal: Annotated[
        bool,
        typer.Option(
            "--personal",
            help="The built-in personal set: twelve things a person says about themselves, "
            "each asked back in a later session.",
        ),
    ] = False,
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset",
            help="Long-term conversations with questions, in the neutral format: each sampled "
            "question asked four ways (none, hearth, oracle, recent), scored by token F1.",
            dir_okay=False,
        ),
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", min=1, help="Questions to ask (--dataset), drawn at random.")
    ] = 60,
    first_person: Annotated[
        bool,
        typer.Option(
            "--first-person",
            help="Also ask each question about the conversation's user as they would (\"Where "
            'was I born?"), the gold answer read as said to them (--dataset).',
        ),
    ] = False,
    keep_dir: Annotated[
        Path | None,
        typer.Option(
            "--keep-dir",
            help="Import the conversations here once and reuse them on later runs (--dataset).",
            file_okay=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=1, help="Only the first N conversations (--dataset; quick runs)."
        ),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A GGUF (default: the embedded model).")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Sampling seed, the same in every arm (and --dataset's draw).")
    ] = 1,
    facts: Annotated[
        int, typer.Option(help="Only the first N of the twelve (a quick check).", min=1, max=12)
    ] = 12,
    as_json: JsonBenchOpt = False,
) -> None:
    """Questions about what the person said, asked in later sessions through the chat's own
    turn loop, with memory on and off: answered, echoed notes, borrowed identity, wall time."""
    if dataset is not None:
        if personal:
            err.print("choose one: --personal or --dataset FILE", highlight=False)
            raise typer.Exit(2)
        _dataset(dataset, model, seed, sample, first_person, keep_dir, limit, as_json)
        return
    if not personal:
        err.print(
            "say which questions: `hearth bench answers --personal` or `--dataset FILE`",
            highlight=False,
        )
        raise typer.Exit(2)
    from agent.runtime.model_files import embedded_model
    from benchmarks.answers_personal import PERSONAL, run_personal_bench
    from tui.cli.bench_common import model_settings, status

    with status() as say:
        result = run_personal_bench(
            model or embedded_model(),
            model_settings=model_settings(),
            seed=seed,
            progress=say,
            facts=PERSONAL[:facts],
        )
    if as_json:
        print_json(result.model_dump())
        return
    table = Table(
        "memory", "answered", "remembered", "echoed", "borrowed", "seconds",
        title=f"personal set, {result.model}, seed {result.seed}",
    )  # fmt: skip
    for arm in (result.on, result.off):
        n = result.questions
        table.add_row(
            "on" if arm.memory else "off", f"{arm.answered}/{n}", f"{arm.remembered}/{n}",
            f"{arm.echoed}/{2 * n}", f"{arm.borrowed}/{2 * n}", f"{arm.seconds:.0f}",
        )  # fmt: skip
    out.print(table)
    for r in result.on.replies:
        mark = "yes" if r.answered else "no "
        out.print(f"{mark} {r.question} -> {r.reply[:100]!r}", markup=False, highlight=False)
    for b in result.on.borrowings:
        out.print(f"borrowed (memory on): {b}", markup=False, highlight=False)


def _dataset(
    path: Path,
    model: Path | None,
    seed: int,
    sample: int,
    first: bool,
    keep_dir: Path | None,
    limit: int | None,
    as_json: bool,
) -> None:
    from agent.face import ModelInfo
    from agent.runtime.backend import LlamaBackend
    from agent.runtime.model_files import embedded_model
    from agent.startup import short_replies_for_small_models
    from benchmarks.answers_dataset import WAYS, run_answers_bench
    from memory.settings import SamplingSettings, Settings
    from tui.cli.bench_common import model_settings, turns_bar

    gguf = model or embedded_model()
    settings = Settings.model_construct(
        model=model_settings(), sampling=SamplingSettings(seed=seed)
    )
    with turns_bar(as_json) as bar:
        bar["describe"](f"loading {gguf.name}")
        backend = LlamaBackend(gguf, settings.model)
        try:
            short_replies_for_small_models(settings, backend.info.parameters)
            info = ModelInfo(name=backend.name, path=str(backend.path), sha256="")
            report = run_answers_bench(
                path, backend, info, settings, sample=sample, seed=seed, first=first,
                keep_dir=keep_dir, limit=limit, **bar,
            )  # fmt: skip
        finally:
            backend.llm.close()
    if as_json:
        print_json(report.model_dump())
        return
    for form in report.forms:
        categories = sorted({c for w in form.ways.values() for c in w.per_category})
        table = Table(
            "way", "F1", "recall", *(f"F1 cat {c}" for c in categories), "questions",
            title=f"answers ({form.form}): {report.dataset}, {report.model}",
        )  # fmt: skip
        for way in WAYS:
            w = form.ways[way]
            per = [w.per_category.get(c) for c in categories]
            table.add_row(
                way, f"{w.f1:.3f}", f"{w.recall:.3f}",
                *(f"{p.f1:.3f}" if p else "-" for p in per), str(w.questions),
            )  # fmt: skip
        out.print(table)
        ratio = form.hearth_over_oracle
        out.print(
            f"hearth / oracle F1: {'-' if ratio is None else f'{ratio:.2f}'}"
            + (f"; {form.rewritten} questions rewritten" if form.form == "first person" else ""),
            highlight=False,
        )
    out.print(
        f"{report.sample} of {report.candidates} questions (seed {report.seed}) from "
        f"{report.conversations} conversations; ingest {report.ingest_s:.0f} s, asking "
        f"{report.asking_s:.0f} s ({report.per_reply_s or 0:.1f} s a reply), wall "
        f"{report.wall_s:.0f} s.\n{report.normaliser}",
        highlight=False,
    )
