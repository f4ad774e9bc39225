"""`hearth bench placement`: where the model extractor runs (benchmarks.placement)."""

from __future__ import annotations

from rich.table import Table

from tui.cli.bench_common import BenchModelOpt
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


def bench_placement(model: BenchModelOpt = None, as_json: JsonBenchOpt = False) -> None:
    """Where the model extractor runs: a second instance of the model, or the chat's own
    between turns with its KV cache saved and put back (memory, time, the next turn's reuse)."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.placement import measure

    with _status() as status:
        status("loading the model and running a conversation")
        settings = _model_settings().model_copy(update={"n_threads": 1})
        report = measure(model or embedded_model(), settings)
    if as_json:
        print_json(report.model_dump())
        return
    second, shared = report.second_instance, report.shared_instance
    table = Table("", "a second instance", "the chat's own, between turns", title=report.model)
    table.add_row(
        "next turn evaluates (tokens)",
        str(second.next_turn_evaluated),
        str(shared.next_turn_evaluated),
    )
    table.add_row("memory held (MiB)", f"{second.extra_mib.rss:.0f}", f"{shared.state_mib:.1f}")
    table.add_row(
        "time", f"load {second.load_seconds:.1f} s", f"{shared.save_and_restore_seconds:.3f} s"
    )
    out.print(table)
    out.print(
        f"without the restore the next turn evaluates {shared.next_turn_evaluated_unrestored}"
        " tokens; --json for every figure",
        highlight=False,
    )
