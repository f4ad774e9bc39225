"""The architecture holds: no layer or bench imports one above it; light commands stay light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "memory": {"agent", "benchmarks", "tui", "textual"},
    "agent": {"benchmarks", "tui", "textual"},
    "benchmarks": {"tui", "textual"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_the_layers_above(package: str) -> None:
    for source in (ROOT / package).rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN[package], f"{source}: {name}"


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(out.stdout.split())


def test_the_core_runs_without_textual() -> None:
    loaded = _modules_after(
        "import agent.startup, agent.turn, agent.context, memory.journal.journal, memory.settings"
    )
    assert "textual" not in loaded


@pytest.mark.parametrize(
    "argv", [["logs", "status"], ["config", "show"], ["models", "list"], ["logs", "list"]]
)
def test_light_commands_never_import_torch(argv: list[str], hearth_home: Path) -> None:
    loaded = _modules_after(
        f"import sys; sys.argv = ['hearth', *{argv!r}]\n"
        "from tui.cli import main as cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass"
    )
    assert "torch" not in loaded and "sentence_transformers" not in loaded
    assert "llama_cpp" not in loaded or argv == ["models", "list"]


# `hearth bench threads` shares its modules with `cpu`; `keys` measures the chat (tui/latency.py).
SHARED_CLI = {"threads": "cpu"}
CHAT_BENCHES = {"keys"}
SHARED_BENCH = {"machine", "dataset"}  # what several benches use, not a bench of its own


def test_the_bench_commands_mirror_their_benches() -> None:
    """`hearth bench X` is defined in tui/cli/bench_X.py and measures with benchmarks/X*.py."""
    from tui.cli.bench import bench_app

    commands = {c.name: c.callback for c in bench_app.registered_commands}
    assert len(commands) >= 16 and all(commands.values())
    groups = set()
    for name, callback in commands.items():
        assert name is not None and callback is not None
        group = SHARED_CLI.get(name, name)
        groups.add(group)
        assert callback.__module__ == f"tui.cli.bench_{group}", name
        if name not in CHAT_BENCHES:
            source = (ROOT / "tui" / "cli" / f"bench_{group}.py").read_text()
            assert f"from benchmarks.{group}" in source, f"{name}: no benchmarks.{group}*"
    benches = [
        p.stem
        for p in (ROOT / "benchmarks").glob("*.py")
        if p.stem not in {"__init__", *SHARED_BENCH}
    ]
    for bench in benches:
        assert any(bench == g or bench.startswith(g + "_") for g in groups), bench
