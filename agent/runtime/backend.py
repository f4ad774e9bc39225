"""The model runtime: a local GGUF through llama-cpp-python, prompted with its own chat template."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from pydantic import BaseModel

from agent.runtime.factory import make_llama
from agent.runtime.gguf import GGUFInfo, read_info
from agent.runtime.native_log import stderr_to
from memory.errors import ConfigError, ModelInvalidError
from memory.journal.schemas import ChatMessage
from memory.settings import ModelSettings, SamplingSettings

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import ChatFormatterResponse

log = logging.getLogger(__name__)

# Used only when a GGUF carries no template of its own (ChatML is the most common format).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass
class KVState:
    """A saved KV cache (`LlamaBackend.save_cache`): llama.cpp's bytes and the tokens."""

    tokens: list[int]
    data: Any
    """A ctypes byte array of `size` bytes used."""
    size: int


class Piece(BaseModel):
    """A streamed fragment of a reply."""

    text: str


class Generation(BaseModel):
    """What one streamed reply cost, filled in as it runs."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_evaluated: int = 0
    tokens_reused: int = 0
    ttft_ms: float | None = None
    total_ms: float | None = None
    finish_reason: str | None = None


class ChatBackend(Protocol):
    """Anything that can stream a chat reply and count tokens the way its model does.

    That is all a turn needs. The rest are optional parts only `LlamaBackend` (a model in this
    process) has: `reply_logprob` (`hearth score`), `constrained` with `save_cache`,
    `load_cache` and `cache_kept` (the model extractor between turns), `perf_evals` and `llm`
    (benchmarks). What needs them asks `require_local` first; `OpenAIBackend` has none."""

    name: str

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int: ...

    def count_text(self, text: str) -> int: ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingSettings,
        stats: Generation,
        stop: threading.Event | None = None,
    ) -> Generator[str, None, None]: ...


def require_local(settings: ModelSettings, what: str) -> None:
    """Refuse in one line what only a model loaded in this process can do."""
    if settings.backend != "llama-cpp":
        raise ConfigError(
            f'{what} needs the model loaded in this process (model.backend = "llama-cpp"); '
            f"the {settings.backend} backend cannot give it"
        )


@contextlib.contextmanager
def scoring_instance(
    path: Path, settings: ModelSettings, n_ctx: int, log_file: Path | None = None
) -> Iterator[LlamaBackend]:
    """A copy of the model of its own for log-probabilities (`logits_all`, an `n_ctx` window):
    the chat's KV cache, if the chat is open, is not touched. llama.cpp's chatter goes to
    `log_file` while it loads; its logits (n_ctx x vocabulary floats) go when the block ends."""
    window = settings.model_copy(update={"n_ctx": n_ctx})
    with stderr_to(log_file) if log_file is not None else contextlib.nullcontext():
        scorer = LlamaBackend(path, window, logits_all=True)
    try:
        yield scorer
    finally:
        scorer.llm.close()


class LlamaBackend:
    """One loaded GGUF and its KV cache; calls must not overlap (the turn loop serialises them)."""

    def __init__(self, path: Path, settings: ModelSettings, *, logits_all: bool = False) -> None:
        """`logits_all`: an instance for `reply_logprob` (scoring), not for chat."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.info: GGUFInfo = read_info(path)
        self.path = Path(self.info.path)
        self.name = self.info.name
        template = settings.chat_template or self.info.chat_template
        self.template_fallback = template is None
        if template is None:
            log.warning("%s has no chat template; falling back to ChatML", self.path.name)
            template = CHATML_TEMPLATE
        self._template_setting = settings.chat_template is not None
        # Before the slow load: a template that cannot work is one line now, not at the reply.
        # The formatter renders in a Jinja sandbox: a template cannot run code on this machine.
        try:
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=self.info.eos_token or "",
                bos_token=self.info.bos_token or "",
            )
        except TemplateSyntaxError as exc:
            what = f"is not valid Jinja ({exc.message}, line {exc.lineno})"
            raise self._template_error(what) from exc
        self._format([ChatMessage(role="user", content="hello")])
        try:
            self.llm: Llama = make_llama(self.path, settings, logits_all=logits_all)
        except ValueError as exc:  # llama-cpp-python raises ValueError on a damaged file
            if "llama_context" in str(exc):
                # The weights loaded: the file is good, the window is what did not fit.
                raise ConfigError(
                    f"llama.cpp could not allocate a context of model.n_ctx = {settings.n_ctx:,}"
                    f" tokens for {self.path.name} (too large for this machine's memory); "
                    "lower model.n_ctx"
                ) from exc
            raise ModelInvalidError(f"llama.cpp could not load {self.path}: {exc}") from exc
        self.n_ctx = settings.n_ctx
        self.kept_bytes = 0
        """The size of the KV state `cache_kept` last saved (benchmarks read it)."""

    def _template_error(self, what: str) -> ConfigError:
        if self._template_setting:
            return ConfigError(
                f"model.chat_template {what}; fix it, or remove it to use the model's own"
            )
        return ConfigError(
            f"the chat template inside {self.path.name} {what}; set model.chat_template "
            "to one that works"
        )

    def _format(self, messages: Sequence[ChatMessage]) -> ChatFormatterResponse:
        try:
            return self._formatter(messages=[m.model_dump() for m in messages])  # type: ignore[misc]
        except SecurityError as exc:
            raise self._template_error(f"does what the template sandbox forbids ({exc})") from exc
        except TemplateError as exc:  # the template's own raise_exception ("roles must alternate")
            raise self._template_error(f"refuses these messages ({exc})") from exc

    def _render(self, messages: Sequence[ChatMessage]) -> tuple[list[int], list[str]]:
        result = self._format(messages)
        tokens = self.llm.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        stop = result.stop if isinstance(result.stop, list) else [result.stop]
        return tokens, [s for s in stop if s]

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(self._render(messages)[0])

    def reply_logprob(self, messages: Sequence[ChatMessage], reply: str) -> tuple[float, int]:
        """The mean log-probability of `reply`'s tokens after the prompt `messages` (formatted
        as for a chat reply), and how many tokens that is. Needs `logits_all=True`.

        Consecutive calls whose prompts share a prefix (the variants of one reply) evaluate
        only what differs: the KV cells and logits of the shared tokens are kept."""
        prompt, _ = self._render(messages)
        return self._mean_logprob(prompt, reply)

    def message_logprob(
        self, messages: Sequence[ChatMessage], lead: str, text: str
    ) -> tuple[float, int]:
        """The mean log-probability of `text`'s tokens as the person's next message after
        `messages`, following `lead` in the same message (the notes the chat places there),
        and how many tokens that is. Needs `logits_all=True`; shares a prefix as above."""
        marker = "HearthMessageStartsHere"
        shown = [*messages, ChatMessage(role="user", content=f"{lead}{marker}")]
        result = self._format(shown)
        before, found, _ = result.prompt.partition(marker)
        if not found:
            raise self._template_error("drops the text of the person's message")
        prompt = self.llm.tokenize(
            before.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        return self._mean_logprob(prompt, text)

    def _mean_logprob(self, prompt: list[int], text: str) -> tuple[float, int]:
        import numpy as np
        from llama_cpp import Llama

        said = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        tokens = prompt + said
        if not said:
            return 0.0, 0
        if len(tokens) > self.n_ctx:
            raise ConfigError(
                f"a prompt and reply of {len(tokens):,} tokens do not fit the scoring window "
                f"of {self.n_ctx:,}; raise model.n_ctx"
            )
        llm = self.llm
        kept = Llama.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        llm.n_tokens = min(kept, len(prompt) - 1)
        # Logits only where they are read: a row is the vocabulary wide, and computing and
        # copying one for each prompt token cost most of a scoring run. The prompt's last
        # token is evaluated again with them on: its row predicts the first scored token.
        try:
            llm._logits_all = False
            llm.eval(tokens[llm.n_tokens : len(prompt) - 1])
            llm._logits_all = True
            llm.eval(tokens[len(prompt) - 1 :])
        finally:
            llm._logits_all = True
        # Row i holds the logits after token i: they predict token i + 1.
        logits = np.asarray(llm.scores[len(prompt) - 1 : len(tokens) - 1], dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        norms = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
        picked = logits[np.arange(len(said)), said]
        return float((picked - norms).mean()), len(said)

    def perf_evals(self) -> tuple[int, int]:
        """llama.cpp's own counters: (prompt tokens evaluated in batches, single-token evals)."""
        import llama_cpp

        data = llama_cpp.llama_perf_context(self.llm._ctx.ctx)
        return int(data.n_p_eval), int(data.n_eval)

    def count_text(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def constrained(
        self, messages: Sequence[ChatMessage], schema: dict[str, Any], max_tokens: int
    ) -> str:
        """A reply at temperature 0 that can only be JSON matching `schema`: llama.cpp's
        grammar-constrained sampling, as `response_format={"type": "json_object", "schema": ...}`
        gives, but prompted through this backend's own chat template (model.chat_template
        included) rather than the one llama-cpp-python guesses."""
        from llama_cpp.llama_grammar import LlamaGrammar

        tokens, stop_strings = self._render(messages)
        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        room = max(1, min(max_tokens, self.n_ctx - len(tokens)))
        out = self.llm.create_completion(
            tokens, grammar=grammar, temperature=0.0, max_tokens=room, stop=stop_strings
        )
        return str(out["choices"][0]["text"])  # type: ignore[index]

    def save_cache(self) -> KVState:
        """The KV cells of the model's sequence and the tokens they hold.

        llama.cpp's sequence state rather than `Llama.save_state()`: that one also copies
        llama-cpp-python's logits array (n_batch x vocabulary floats: 256 MiB for a 262k
        vocabulary, ~1.7 s to save and load), which the next call recomputes anyway
        (docs/benchmarks.md, "Model extractor")."""
        import llama_cpp

        ctx = self.llm._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        data = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(ctx, data, size, 0))
        tokens = [int(t) for t in self.llm.input_ids[: self.llm.n_tokens]]
        return KVState(tokens=tokens, data=data, size=written)

    def load_cache(self, state: KVState | None) -> None:
        """Put a saved cache back (None: an empty one); the next call reuses its prefix."""
        import llama_cpp

        llm = self.llm
        llm._ctx.kv_cache_clear()  # type: ignore[no-untyped-call]
        llm.n_tokens = 0
        ctx = llm._ctx.ctx
        if state is not None and state.size:
            if llama_cpp.llama_state_seq_set_data(ctx, state.data, state.size, 0):
                llm.n_tokens = len(state.tokens)
                llm.input_ids[: len(state.tokens)] = state.tokens
            else:
                # Not restored: the next call evaluates its whole prompt, and is still right.
                log.warning("a saved KV cache could not be loaded; the next prompt starts afresh")
        # The logits on hand are from other work: a fully cached prompt must replay a token.
        llm._requires_eval = True

    @contextlib.contextmanager
    def cache_kept(self) -> Iterator[None]:
        """Use this model between turns without costing the chat its cached prompt: its KV
        cache is saved before and put back after, so the next turn still evaluates only its
        new tokens."""
        state = self.save_cache()
        self.kept_bytes = state.size
        try:
            yield
        finally:
            self.load_cache(state)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingSettings,
        stats: Generation,
        stop: threading.Event | None = None,
    ) -> Generator[str, None, None]:
        from llama_cpp import Llama

        tokens, stop_strings = self._render(messages)
        # The prefix test llama-cpp-python 0.3.36 applies before evaluating: what it will reuse
        # (a fully cached prompt still replays its last token to refresh the logits).
        reused = Llama.longest_token_prefix(self.llm._input_ids.tolist(), tokens)
        reused = min(reused, len(tokens) - 1)
        stats.prompt_tokens = len(tokens)
        stats.tokens_reused = reused
        stats.tokens_evaluated = len(tokens) - reused
        max_tokens = max(1, min(sampling.max_tokens, self.n_ctx - len(tokens)))
        started = time.perf_counter()
        pieces: list[str] = []
        chunks = self.llm.create_completion(
            tokens,
            max_tokens=max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k,
            min_p=sampling.min_p,
            repeat_penalty=sampling.repeat_penalty,
            seed=sampling.seed,
            stop=stop_strings,
            logit_bias={self.llm.token_eos(): float("-inf")} if sampling.ignore_eos else None,
            stream=True,
        )
        try:
            for chunk in chunks:
                choice: dict[str, Any] = chunk["choices"][0]  # type: ignore[index,assignment]
                text = choice["text"]
                if text:
                    if stats.ttft_ms is None:
                        stats.ttft_ms = (time.perf_counter() - started) * 1000
                    pieces.append(text)
                    yield text
                if choice.get("finish_reason"):
                    stats.finish_reason = choice["finish_reason"]
                if stop is not None and stop.is_set():
                    stats.finish_reason = "interrupted"
                    break
        finally:
            chunks.close()  # type: ignore[union-attr]
            stats.total_ms = (time.perf_counter() - started) * 1000
            stats.completion_tokens = self.count_text("".join(pieces))
