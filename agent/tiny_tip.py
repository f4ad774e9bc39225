"""The tip for a newcomer on the tiny built-in model: said once per data dir, never again."""

from __future__ import annotations

import contextlib
from pathlib import Path

from agent.runtime.model_files import embedded_model
from memory.errors import ModelNotFoundError

TINY_MODEL_TIP = (
    "I'm running on a tiny built-in model, so I may mix things up. For a better voice, "
    "run `hearth models list --catalog`, then `hearth models pull NAME --use`."
)
TIP_SHOWN = "tiny-model-tip.shown"
"""A file in the data dir: the tip has been shown once, and is not shown again."""


def tiny_model_tip(model_path: str, data_dir: Path) -> str | None:
    """The tip, the first time a chat replies with the embedded model; None ever after (or for
    any other model). Showing it is recorded at once, so a crash cannot show it twice."""
    with contextlib.suppress(ModelNotFoundError):
        if Path(model_path).resolve() == embedded_model().resolve():
            flag = data_dir / TIP_SHOWN
            if flag.exists():
                return None
            with contextlib.suppress(OSError):  # a read-only data dir shows it again: harmless
                flag.touch()
            return TINY_MODEL_TIP
    return None
