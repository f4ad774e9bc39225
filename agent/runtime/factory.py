"""The one place that creates a llama_cpp.Llama, so every model loaded gets the CPU setting."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.runtime.cpu import ExtraBuffersChoice, choose_extra_buffers, this_cpuinfo
from memory.settings import ModelSettings

if TYPE_CHECKING:
    from llama_cpp import Llama

# Llama() fills its model parameters from llama_model_default_params() and loads the file in
# the same call, with no argument for use_extra_bufts (llama-cpp-python 0.3.36); the defaults
# are swapped for the duration of one construction, one construction at a time.
_CONSTRUCTING = threading.Lock()


def extra_buffers(settings: ModelSettings) -> ExtraBuffersChoice:
    """What `model.extra_buffer_types` means on this machine."""
    return choose_extra_buffers(settings.extra_buffer_types, this_cpuinfo())


@contextlib.contextmanager
def _model_defaults(use_extra_bufts: bool) -> Iterator[None]:
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = use_extra_bufts
        return params

    with _CONSTRUCTING:
        native.llama_model_default_params = defaults
        try:
            yield
        finally:
            native.llama_model_default_params = original


def make_llama(
    path: Path, settings: ModelSettings, *, logits_all: bool = False, **params: Any
) -> Llama:
    """Load `path` with the model settings; `params` override Llama's keyword arguments.

    `logits_all`: keep the logits of every position evaluated, not only the last (scoring a
    reply token by token needs them; they cost n_ctx x vocabulary floats of memory).

    Callers read back what llama.cpp was given from `llm.model_params` (benchmarks report it).
    Raises llama-cpp-python's ValueError on a damaged file, as Llama() does.
    """
    from llama_cpp import Llama

    kwargs: dict[str, Any] = {
        "model_path": str(path),
        "n_ctx": settings.n_ctx,
        "n_threads": settings.n_threads,
        "n_threads_batch": settings.n_threads,
        "n_batch": settings.n_batch,
        "n_gpu_layers": settings.n_gpu_layers,
        "verbose": False,
        "logits_all": logits_all,
        **params,
    }
    with _model_defaults(extra_buffers(settings).use):
        return Llama(**kwargs)


def uses_extra_buffers(llm: Llama) -> bool:
    """Read back the model parameter llama.cpp loaded `llm` with."""
    return bool(llm.model_params.use_extra_bufts)


def system_info() -> str:
    """llama.cpp's system info line: the CPU features this build of it uses."""
    import llama_cpp

    raw: bytes = llama_cpp.llama_print_system_info()
    return raw.decode("utf-8", errors="replace").strip()
