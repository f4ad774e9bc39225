"""Which extractor a model gets: memory.extractor, then the probe's decision for that file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent.learn.probe import ProbeResult, cached
from memory.settings import SMALL_MODEL_PARAMS, Extractor, Paths

Use = Literal["rules", "model"]


class ExtractorChoice(BaseModel):
    """What `hearth models info` prints as "memory extractor: <use> (<why>)"."""

    setting: Extractor
    use: Use
    why: str
    probe: ProbeResult | None = None
    pending: bool = False
    """`auto` with no decision yet: the probe runs between turns, the rules meanwhile."""

    def line(self) -> str:
        return f"{self.use} ({self.why})"


def choose(
    setting: Extractor, model: Path, parameters: int | None, paths: Paths
) -> ExtractorChoice:
    """The extractor for `model` under the setting, from the probe's cached decision if any."""
    decided = cached(paths.extractor_probe, model)
    if setting != "auto":
        why = f"memory.extractor = {setting}"
        if decided is not None:
            why += f"; the probe: {decided.summary()}"
        return ExtractorChoice(setting=setting, use=setting, why=why, probe=decided)
    if decided is not None:
        use: Use = "model" if decided.passed else "rules"
        return ExtractorChoice(setting=setting, use=use, why=decided.summary(), probe=decided)
    if parameters is not None and parameters < SMALL_MODEL_PARAMS:
        # Every model this small failed the probe (docs/benchmarks.md): not worth its time.
        return ExtractorChoice(
            setting=setting,
            use="rules",
            why="a model under 1B parameters is not probed; `hearth models info --probe` runs it",
        )
    return ExtractorChoice(
        setting=setting,
        use="rules",
        why="not probed yet: the probe reads one message between turns, the rules meanwhile",
        pending=True,
    )


def served(setting: Extractor) -> ExtractorChoice:
    """The choice under the openai backend: the rules, since the model extractor needs the
    model in this process (grammar-constrained output, its KV cache kept between turns);
    `memory.extractor = "model"` is refused when the chat loads."""
    return ExtractorChoice(
        setting=setting,
        use="rules",
        why='model.backend = "openai": the model extractor needs a model in this process',
    )
