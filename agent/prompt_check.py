"""`hearth doctor`'s prompt checks: model.chat_template renders, and chat.persona leaves room
in the window, counted with the model's own tokenizer when a cheap bound cannot tell."""

from __future__ import annotations

from pathlib import Path

from agent.context import system_prompt
from agent.runtime.native_log import stderr_to
from agent.runtime.template_check import template_problem
from memory.health import Check
from memory.settings import Settings

TEMPLATE_OVERHEAD = 32
"""Tokens a chat template adds around the system prompt (role markers), at most, in practice."""


def template(settings: Settings) -> Check | None:
    """model.chat_template, where set, rendered over a short chat (no llama.cpp needed). None
    when it is not set."""
    source = settings.model.chat_template
    if source is None:
        return None
    problem = template_problem(source)
    if problem is None:
        return Check(name="template", ok=True, detail="model.chat_template renders a chat")
    return Check(
        name="template",
        ok=False,
        detail=f"model.chat_template {problem}",
        fix="fix model.chat_template, or remove it to use the model's own",
    )


def room(settings: Settings) -> int:
    """Tokens the system prompt may take: as the turn's own check (`startup.check_window`)."""
    n_ctx = settings.model.n_ctx
    budget = n_ctx - min(settings.sampling.max_tokens, n_ctx // 2)
    return budget - budget // 4


def _count(model: Path, text: str, log_file: Path, settings: Settings) -> int:
    """Tokens of `text` by the model's tokenizer: its vocabulary alone is loaded."""
    from agent.runtime.factory import make_llama

    with stderr_to(log_file):
        llm = make_llama(model, settings.model, vocab_only=True)
    try:
        return len(llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))
    finally:
        llm.close()


def persona(settings: Settings, model: Path | None, log_file: Path) -> Check:
    """chat.persona against the window. A token is at least one byte of UTF-8, so a prompt of
    fewer bytes than the room fits without counting; past that, the model's tokenizer says."""
    chat = settings.chat
    text = system_prompt(chat.persona, [], chat.user_name)
    allowed = room(settings)
    fix = "shorten chat.persona or raise model.n_ctx"
    if len(text.encode("utf-8")) + TEMPLATE_OVERHEAD <= allowed:
        return Check(name="persona", ok=True, detail=f"fits the window (under {allowed:,} tokens)")
    if model is None:
        return Check(
            name="persona",
            ok=True,
            detail=f"{len(text):,} characters; not counted (no local model to count with)",
        )
    try:
        tokens = _count(model, text, log_file, settings) + TEMPLATE_OVERHEAD
    except (ValueError, OSError) as exc:
        return Check(name="persona", ok=True, detail=f"not counted ({exc})")
    if tokens > allowed:
        return Check(
            name="persona",
            ok=False,
            detail=f"chat.persona is about {tokens:,} tokens by the model's tokenizer, more than "
            f"the {allowed:,} this window allows (model.n_ctx = {settings.model.n_ctx:,} less "
            "sampling.max_tokens, with room for a message); every turn would be refused",
            fix=fix,
        )
    return Check(name="persona", ok=True, detail=f"{tokens:,} tokens of {allowed:,} allowed")
