"""Every CPU path is safe: the extra-buffer-types choice, and that it reaches every Llama made."""

from __future__ import annotations

import ast
import json
import platform
from pathlib import Path

import pytest

from agent.runtime.backend import LlamaBackend
from agent.runtime.cpu import choose_extra_buffers, cpu_flags, this_cpuinfo
from agent.runtime.factory import make_llama, uses_extra_buffers
from benchmarks.cpu_speed import measure_speed, run_cpu_bench
from benchmarks.turn_cost import run_turn_bench
from memory.settings import ModelSettings
from tests.conftest import RunHearth

ROOT = Path(__file__).resolve().parent.parent

# Trimmed /proc/cpuinfo texts as real machines print them.
SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme sse sse2 avx avx2 fma f16c avx512f avx512_vnni avx512_bf16 \
amx_bf16 avx512_fp16 amx_tile amx_int8 arch_capabilities
"""
EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu vme sse sse2 avx avx2 fma f16c bmi2 sha_ni vaes vpclmulqdq
"""
ICE_LAKE = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni
"""
GRAVITON = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp sve
"""


@pytest.mark.parametrize(
    ("cpuinfo", "use"),
    [(SAPPHIRE_RAPIDS, False), (EPYC, True), (ICE_LAKE, True), (GRAVITON, True), ("", True)],
    ids=["amx", "amd", "avx512-no-amx", "arm", "no-cpuinfo"],
)
def test_auto_turns_extra_buffers_off_only_where_the_cpu_has_amx(cpuinfo: str, use: bool) -> None:
    choice = choose_extra_buffers("auto", cpuinfo)
    assert choice.use is use
    assert ("AMX" in choice.reason) and (("no AMX" in choice.reason) is use)


@pytest.mark.parametrize("cpuinfo", [SAPPHIRE_RAPIDS, EPYC])
def test_on_and_off_are_obeyed_on_any_cpu(cpuinfo: str) -> None:
    assert choose_extra_buffers("on", cpuinfo).use is True
    assert choose_extra_buffers("off", cpuinfo).use is False


def test_cpu_flags_reads_x86_and_arm() -> None:
    assert {"amx_tile", "amx_int8", "avx2"} <= cpu_flags(SAPPHIRE_RAPIDS)
    assert "asimd" in cpu_flags(GRAVITON)
    assert cpu_flags("") == frozenset()


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_chat_runtime_loads_with_the_setting(embedded_gguf: Path, setting: str) -> None:
    backend = LlamaBackend(
        embedded_gguf, ModelSettings(n_ctx=512, n_threads=1, extra_buffer_types=setting)
    )
    assert uses_extra_buffers(backend.llm) is (setting == "on")


def test_auto_reaches_llama_as_this_machine_decides(embedded_gguf: Path) -> None:
    llm = make_llama(embedded_gguf, ModelSettings(n_ctx=256, n_threads=1))
    assert uses_extra_buffers(llm) is choose_extra_buffers("auto", this_cpuinfo()).use


def test_a_load_after_an_off_load_gets_llama_cpps_defaults_back(embedded_gguf: Path) -> None:
    """The factory swaps llama.cpp's default parameters only while it constructs."""
    import llama_cpp

    make_llama(embedded_gguf, ModelSettings(n_ctx=256, n_threads=1, extra_buffer_types="off"))
    assert llama_cpp.llama_model_default_params().use_extra_bufts is True


def test_the_speed_benches_load_with_the_setting(embedded_gguf: Path) -> None:
    settings = ModelSettings(n_threads=1, extra_buffer_types="off")
    *_, extra = measure_speed(embedded_gguf, settings, tokens=2)
    assert extra is False
    bench = run_cpu_bench(embedded_gguf, settings, tokens=2, repeat=1, progress=lambda _: None)
    assert sorted(f.extra_buffers for f in bench.figures) == [False, True]
    assert "CPU" in bench.system_info


def test_the_turn_bench_loads_both_arms_with_the_setting(embedded_gguf: Path) -> None:
    bench = run_turn_bench(
        embedded_gguf,
        n_ctx=1024,
        threads=1,
        reply_tokens=2,
        progress=lambda _: None,
        extra_buffer_types="off",
        script=["Hi, I'm Sam.", "I live in Lisbon.", "My cat is Miso."],
    )
    assert bench.extra_buffers == [False, False]
    assert len(bench.turns) == 3


def test_llama_is_constructed_only_by_the_factory() -> None:
    """Anything that makes its own Llama would skip the CPU setting."""
    makers: list[str] = []
    for package in ("agent", "benchmarks", "memory", "tui"):
        for source in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                    if name == "Llama":
                        makers.append(str(source.relative_to(ROOT)))
    assert makers == ["agent/runtime/factory.py"]


def test_models_info_without_a_path_shows_the_cpu_path(run_hearth: RunHearth) -> None:
    out = run_hearth("models", "info", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["source"] == "embedded"
    assert info["quantization"] and info["architecture"] == "llama"
    assert "CPU" in info["system_info"]
    if platform.machine() == "x86_64":  # the portable build's baseline
        assert "AVX2 = 1" in info["system_info"]
    assert info["extra_buffer_types"]["setting"] == "auto"

    off = run_hearth("models", "info", env={"HEARTH_MODEL__EXTRA_BUFFER_TYPES": "off"})
    assert off.returncode == 0, off.stderr
    assert "extra_buffer_types: off -> off (set by the user)" in off.stdout
    assert "llama.cpp: CPU" in off.stdout
