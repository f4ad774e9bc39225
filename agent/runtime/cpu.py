"""What this CPU can do, and which of llama.cpp's CPU code paths Hearth lets it take."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel

from memory.settings import ExtraBuffers

# Flags /proc/cpuinfo lists on Intel CPUs with Advanced Matrix Extensions (Sapphire Rapids on).
AMX_FLAGS = frozenset({"amx_tile", "amx_int8", "amx_bf16"})


class ExtraBuffersChoice(BaseModel):
    """Whether llama.cpp may use its extra buffer types (AMX kernels, CPU weight repacking)."""

    setting: ExtraBuffers
    use: bool
    reason: str

    @property
    def summary(self) -> str:
        """`on (this CPU has no AMX)`: the choice and why, as the CLI and benchmarks print it."""
        return f"{'on' if self.use else 'off'} ({self.reason})"


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first CPU in a /proc/cpuinfo text (x86 "flags", ARM "Features")."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@functools.cache
def this_cpuinfo() -> str:
    """/proc/cpuinfo, or "" where there is none (macOS, Windows): such machines have no AMX."""
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def choose_extra_buffers(setting: ExtraBuffers, cpuinfo: str) -> ExtraBuffersChoice:
    """`auto` turns extra buffer types off where the CPU has AMX, on elsewhere.

    llama.cpp's AMX path crashes in ggml_backend_amx_mul_mat (upstream llama.cpp#20824) and
    computes Q4_0/Q4_1 wrongly (PR #16315); the embedded model is Q4_1. Without extra buffer
    types llama.cpp never enters it, at the cost of the weight repacks (see docs/benchmarks.md).
    """
    if setting != "auto":
        return ExtraBuffersChoice(setting=setting, use=setting == "on", reason="set by the user")
    amx = sorted(AMX_FLAGS & cpu_flags(cpuinfo))
    if amx:
        return ExtraBuffersChoice(
            setting=setting,
            use=False,
            reason=f"this CPU has AMX ({', '.join(amx)}), where llama.cpp's AMX path crashes",
        )
    return ExtraBuffersChoice(setting=setting, use=True, reason="this CPU has no AMX")
