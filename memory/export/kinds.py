"""The one registry of export kinds: each kind, its card's name, and what the options do to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# A new kind: its name here, its entry below, and its rows (memory/export/rows.py:_rows_for).
ExportKind = Literal["sft", "dpo", "kto", "openai", "sharegpt"]
EXPORT_KINDS: tuple[ExportKind, ...] = get_args(ExportKind)


@dataclass(frozen=True)
class ExportKindInfo:
    """What one export kind writes, and how --context-frozen and --candidates apply to it."""

    name: ExportKind
    format_name: str
    """The dataset card's "Format:" line."""
    frozen_name: str | None = None
    """The card's line with --context-frozen, which then writes one reply a row after its exact
    prompt; None: the option changes nothing (the kind always uses that prompt)."""
    scored: bool = True
    """Its rows carry the score, synthetic and imported columns; openai's are uploaded as they are
    (`messages` only)."""
    whole_conversations: bool = False
    """Without --context-frozen a row trains every reply it holds, so --candidates (which keeps
    only some replies) needs --context-frozen."""

    @property
    def freezes(self) -> bool:
        """--context-frozen changes what this kind writes."""
        return self.frozen_name is not None


REGISTRY: dict[ExportKind, ExportKindInfo] = {
    k.name: k
    for k in (
        ExportKindInfo(
            "sft",
            "TRL SFT, conversational (`messages`)",
            "TRL SFT, prompt-completion (`prompt` / `completion`), context frozen",
            whole_conversations=True,
        ),
        ExportKindInfo("dpo", "TRL DPO, conversational (`prompt` / `chosen` / `rejected`)"),
        ExportKindInfo("kto", "TRL KTO, unpaired (`prompt` / `completion` / `label`)"),
        ExportKindInfo(
            "openai",
            "OpenAI chat fine-tuning (`messages`, per-reply `weight`)",
            "OpenAI chat fine-tuning, context frozen (only the last reply weighted)",
            scored=False,
        ),
        ExportKindInfo(
            "sharegpt",
            "ShareGPT (`conversations` of `from` / `value`)",
            "ShareGPT, one reply per row after its exact prompt (mask history)",
            whole_conversations=True,
        ),
    )
}
assert tuple(REGISTRY) == EXPORT_KINDS, "every kind is registered once, in declaration order"


def writes_frozen(kind: ExportKind, context_frozen: bool) -> bool:
    """Whether this export writes one reply a row after its exact prompt (--context-frozen, for a
    kind it changes)."""
    return context_frozen and REGISTRY[kind].freezes


def candidates_refused(kind: ExportKind, context_frozen: bool) -> bool:
    """--candidates cannot go with this export: its rows would train whole conversations, every
    reply in them, candidates or not."""
    return REGISTRY[kind].whole_conversations and not context_frozen


def card_format(kind: ExportKind, context_frozen: bool) -> str:
    """The card's name for what this export wrote."""
    info = REGISTRY[kind]
    return (
        info.frozen_name
        if writes_frozen(kind, context_frozen) and info.frozen_name
        else info.format_name
    )


def in_words() -> str:
    """The kinds as a person reads them: "sft, dpo, kto, openai or sharegpt"."""
    return f"{', '.join(EXPORT_KINDS[:-1])} or {EXPORT_KINDS[-1]}"
