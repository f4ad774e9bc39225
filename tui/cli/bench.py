"""`hearth bench ...`: the group, each command from its own module mirroring its bench."""

from __future__ import annotations

import typer

from tui.cli.bench_answers import bench_answers
from tui.cli.bench_cpu import bench_cpu, bench_threads
from tui.cli.bench_embedder import bench_embedder
from tui.cli.bench_extraction import bench_extraction
from tui.cli.bench_import import bench_import
from tui.cli.bench_keys import bench_keys
from tui.cli.bench_manners import bench_manners
from tui.cli.bench_memory import bench_memory
from tui.cli.bench_placement import bench_placement
from tui.cli.bench_retrieval import bench_retrieval
from tui.cli.bench_say import bench_say
from tui.cli.bench_server import bench_server
from tui.cli.bench_turn import bench_turn
from tui.cli.bench_understanding import bench_understanding
from tui.cli.bench_voice import bench_voice

bench_app = typer.Typer(help="Measure Hearth on this machine.", no_args_is_help=True)

# `hearth bench X` lives in tui/cli/bench_X.py and measures with benchmarks/X*.py (threads
# shares bench_cpu.py and benchmarks/cpu_speed.py with cpu; keys measures the chat itself, in
# tui/latency.py). Registered in `hearth bench --help`'s order.
bench_app.command("memory")(bench_memory)
bench_app.command("turn")(bench_turn)
bench_app.command("server")(bench_server)
bench_app.command("say")(bench_say)
bench_app.command("keys")(bench_keys)
bench_app.command("manners")(bench_manners)
bench_app.command("threads")(bench_threads)
bench_app.command("placement")(bench_placement)
bench_app.command("cpu")(bench_cpu)
bench_app.command("retrieval")(bench_retrieval)
bench_app.command("extraction")(bench_extraction)
bench_app.command("understanding")(bench_understanding)
bench_app.command("voice")(bench_voice)
bench_app.command("answers")(bench_answers)
bench_app.command("embedder")(bench_embedder)
bench_app.command("import")(bench_import)
