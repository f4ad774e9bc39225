"""The openai backend: replies streamed from an OpenAI-compatible server (llama.cpp, vLLM)."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Generator, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from agent.runtime.backend import Generation
from memory.errors import ModelServerError
from memory.journal.schemas import ChatMessage, ModelInfo
from memory.settings import ModelSettings, SamplingSettings

log = logging.getLogger(__name__)

Tokenizer = Literal["llama.cpp", "llama-cpp-python", "estimate"]
"""How token counts are had: llama.cpp's `POST /tokenize`, llama-cpp-python's
`POST /extras/tokenize`, or an estimate where the server has neither (vLLM, Ollama)."""

LETTERS_PER_TOKEN = 3
"""The estimate, for a server with no tokenize endpoint: ASCII letters and whitespace count a
token per 3 (English words run ~4 letters a token), and every UTF-8 byte of anything else a
token: digits, punctuation and code symbols are often a token each, and a tokenizer that does
not know a script falls back to a token a byte (SmolLM2 spends 18 on 11 Japanese characters).
English prose comes out ~1.7 times its real count: the cost is history trimmed early, never a
window overflowed. Random letter strings (keys, hashes) can still run past it."""
ESTIMATE_MARGIN = 1.1
"""And a tenth more: it over-counts what it cannot know rather than overflow the window."""
MESSAGE_OVERHEAD = 8
"""Tokens a chat template adds around each message (ChatML adds 5: a start marker, the role, a
newline, an end marker, a newline; Llama 3 and Gemma about as many): a margin, not a count."""
PROMPT_OVERHEAD = 8
"""Tokens added once per prompt (a BOS and the assistant's opening), with margin."""
COUNT_CACHE = 4096
"""Texts whose counts are kept: each turn resends the same history (a prefix-stable prompt)."""
CONNECT_TIMEOUT_S = 5.0


def public_url(url: str) -> str:
    """`url` without a user:password part or a query: what is journaled and printed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def server_identity(base_url: str, model: str) -> str:
    """A stable id for a server's model, in place of a file's sha256: the sha256 of the public
    base URL and the model name, one line each. The same server and name give the same id (the
    weights behind it may change unseen: a server does not say)."""
    return hashlib.sha256(f"{public_url(base_url)}\n{model}".encode()).hexdigest()


class OpenAIBackend:
    """A `ChatBackend` over HTTP. The server applies its own chat template, so the messages go
    as Hearth builds them (the same list, turn after turn: its prefix cache can reuse it).

    It has none of `LlamaBackend`'s optional parts (log-probabilities of a given reply, grammar
    constrained output with a kept KV cache, llama.cpp's counters): `require_local` refuses
    what needs them."""

    def __init__(
        self,
        settings: ModelSettings,
        *,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        """Asks the server for its models (and the name to use), then how it tokenizes;
        `tokenizer` forces one way (tests of the estimate)."""
        assert settings.base_url is not None  # ModelSettings refuses openai without it
        self.base_url = settings.base_url
        self.url = public_url(settings.base_url)
        # llama.cpp's and llama-cpp-python's own endpoints live beside /v1, not under it.
        self.root = self.base_url.removesuffix("/v1")
        key = settings.secret_key()
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
        self.timeout_s = settings.timeout_s
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(
                settings.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.timeout_s)
            ),
        )
        self.n_ctx = settings.n_ctx
        self.models = self._models()
        if settings.server_model is not None:
            self.name = settings.server_model
        elif self.models:
            self.name = self.models[0]
        else:
            raise ModelServerError(
                f"the model server at {self.url} lists no model; set model.server_model"
            )
        self.template_fallback = False
        self._counts: dict[str, int] = {}
        self._bos = 0
        self.tokenizer: Tokenizer = tokenizer or self._find_tokenizer()

    # -- talking to the server -------------------------------------------------------------

    def _fail(self, exc: httpx.HTTPError | httpx.Response) -> ModelServerError:
        """One line for what went wrong, with the URL and what to do (never the key)."""
        url = self.url
        if isinstance(exc, httpx.Response):
            code = exc.status_code
            if code in (401, 403):
                return ModelServerError(
                    f"the model server at {url} refused the API key ({code}); set "
                    "HEARTH_MODEL__API_KEY or model.api_key_file to the key it expects"
                )
            try:
                detail = str(exc.read().decode("utf-8", errors="replace"))[:300]
            except httpx.HTTPError:
                detail = ""
            return ModelServerError(
                f"the model server at {url} answered {code} {exc.reason_phrase}: "
                f"{' '.join(detail.split())}; check model.base_url, model.server_model and "
                "model.n_ctx (at most the server's window)"
            )
        if isinstance(exc, httpx.TimeoutException):
            return ModelServerError(
                f"the model server at {url} did not answer within {self.timeout_s:g} s; "
                "check that it is running and not overloaded, or raise model.timeout_s"
            )
        if isinstance(exc, httpx.ConnectError):
            return ModelServerError(
                f"cannot reach the model server at {url} ({_reason(exc)}); start it, or fix "
                "model.base_url"
            )
        return ModelServerError(f"talking to the model server at {url} failed: {_reason(exc)}")

    def _post(self, url: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return self._http.post(url, json=body)
        except httpx.HTTPError as exc:
            raise self._fail(exc) from None

    def _models(self) -> list[str]:
        try:
            response = self._http.get(f"{self.base_url}/models")
        except httpx.HTTPError as exc:
            raise self._fail(exc) from None
        if response.status_code != 200:
            raise self._fail(response)
        try:
            return [str(m["id"]) for m in response.json().get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ModelServerError(
                f"{self.url}/models did not answer as an OpenAI-compatible server does; "
                "check model.base_url (it ends in /v1)"
            ) from None

    def model_info(self) -> ModelInfo:
        """The journal's record of who wrote a reply: the server's model name, the server's
        public URL in place of a path, and `server_identity` in place of a file hash."""
        return ModelInfo(
            name=self.name, path=self.url, sha256=server_identity(self.base_url, self.name)
        )

    # -- counting tokens -------------------------------------------------------------------

    def _find_tokenizer(self) -> Tokenizer:
        """The first tokenize endpoint the server answers; else the estimate."""
        probe = self._tokenize_llama_cpp("hello")
        if probe is not None:
            return "llama.cpp"
        empty = self._tokenize_extras("")
        if empty is not None:
            # That endpoint adds the BOS token the model wants; a text's count leaves it out.
            self._bos = empty
            return "llama-cpp-python"
        log.info("%s has no tokenize endpoint: token counts are estimates", self.url)
        return "estimate"

    def _tokenize_llama_cpp(self, text: str) -> int | None:
        body = {"content": text, "add_special": False, "parse_special": False}
        response = self._post(f"{self.root}/tokenize", body)
        return _token_count(response)

    def _tokenize_extras(self, text: str) -> int | None:
        response = self._post(f"{self.root}/extras/tokenize", {"input": text, "model": self.name})
        return _token_count(response)

    def count_text(self, text: str) -> int:
        known = self._counts.get(text)
        if known is not None:
            return known
        count: int | None = None
        if self.tokenizer == "llama.cpp":
            count = self._tokenize_llama_cpp(text)
        elif self.tokenizer == "llama-cpp-python":
            found = self._tokenize_extras(text)
            count = None if found is None else max(0, found - self._bos)
        if count is None:
            count = estimate(text)
        if len(self._counts) >= COUNT_CACHE:
            self._counts.clear()
        self._counts[text] = count
        return count

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """The prompt's size with margin: each message's text counted by the server's tokenizer
        (or estimated), plus MESSAGE_OVERHEAD a message and PROMPT_OVERHEAD, since the server's
        chat template, which adds them, is not Hearth's to render."""
        texts = sum(self.count_text(m.content) for m in messages)
        return texts + MESSAGE_OVERHEAD * len(messages) + PROMPT_OVERHEAD

    # -- replying --------------------------------------------------------------------------

    def request(
        self, messages: Sequence[ChatMessage], sampling: SamplingSettings, max_tokens: int
    ) -> dict[str, Any]:
        """The chat completion request for `messages`. temperature, top_p, max_tokens, seed and
        stream are OpenAI's own; top_k, min_p and repeat_penalty go under llama.cpp's names
        (llama.cpp's and llama-cpp-python's servers use them, vLLM takes top_k and min_p,
        others ignore them); ignore_eos is llama.cpp's and vLLM's. Stop strings are the
        server's, from its chat template."""
        body: dict[str, Any] = {
            "model": self.name,
            "messages": [m.model_dump() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k,
            "min_p": sampling.min_p,
            "repeat_penalty": sampling.repeat_penalty,
        }
        if sampling.seed is not None and sampling.seed >= 0:
            body["seed"] = sampling.seed
        if sampling.ignore_eos:
            body["ignore_eos"] = True
        return body

    def stream(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingSettings,
        stats: Generation,
        stop: threading.Event | None = None,
    ) -> Generator[str, None, None]:
        """Stream a reply; a set `stop` closes the connection (the server stops when it sees
        it). `stats` is the turn's Generation: the server's usage and llama.cpp's timings
        (cached prompt tokens) where it sends them, else Hearth's own counts."""
        prompt = self.count_tokens(messages)
        stats.prompt_tokens = prompt
        stats.tokens_reused = 0
        stats.tokens_evaluated = prompt
        body = self.request(
            messages, sampling, max(1, min(sampling.max_tokens, self.n_ctx - prompt))
        )
        pieces: list[str] = []
        usage_tokens: int | None = None
        started = time.perf_counter()
        try:
            with self._http.stream("POST", f"{self.base_url}/chat/completions", json=body) as resp:
                if resp.status_code != 200:
                    raise self._fail(resp)
                for event in events(resp):
                    if "error" in event:
                        raise ModelServerError(
                            f"the model server at {self.url} failed mid-reply: "
                            f"{_error_text(event['error'])}"
                        )
                    usage_tokens = _read_usage(event, stats, usage_tokens)
                    for choice in event.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
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
        except httpx.HTTPError as exc:
            raise self._fail(exc) from None
        finally:
            # Here too when the turn loop closes the stream early (a loop): the reply's cost
            # is journaled whichever way it ended.
            stats.total_ms = (time.perf_counter() - started) * 1000
            if usage_tokens is not None:
                stats.completion_tokens = usage_tokens
            else:
                said = "".join(pieces)
                try:
                    stats.completion_tokens = self.count_text(said)
                except ModelServerError:  # the server went away mid-reply: that error stands
                    stats.completion_tokens = estimate(said)

    def close(self) -> None:
        self._http.close()


def estimate(text: str) -> int:
    """`text`'s tokens by LETTERS_PER_TOKEN and ESTIMATE_MARGIN, for no tokenizer at hand."""
    plain = sum(1 for c in text if c.isascii() and (c.isalpha() or c.isspace()))
    other = len(text.encode("utf-8")) - plain
    return math.ceil((plain / LETTERS_PER_TOKEN + other) * ESTIMATE_MARGIN)


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    return " ".join(text.split()) or type(exc).__name__


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _token_count(response: httpx.Response) -> int | None:
    """The length of a tokenize endpoint's `tokens`; None where there is no such endpoint."""
    if response.status_code != 200:
        return None
    try:
        tokens = response.json()["tokens"]
    except (ValueError, KeyError, TypeError):
        return None
    return len(tokens) if isinstance(tokens, list) else None


def events(response: httpx.Response) -> Generator[dict[str, Any], None, None]:
    """The JSON objects of a server-sent event stream, up to `[DONE]` (comments and pings
    skipped)."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        if not data:
            continue
        try:
            event = json.loads(data)
        except ValueError:
            log.warning("an unreadable event from the model server was skipped")
            continue
        if isinstance(event, dict):
            yield event


def _read_usage(event: dict[str, Any], stats: Generation, known: int | None) -> int | None:
    """The server's own counts where it sends them: OpenAI's `usage` and llama.cpp's `timings`
    (`cache_n`: prompt tokens its prefix cache reused)."""
    usage = event.get("usage")
    if isinstance(usage, dict):
        if isinstance(usage.get("prompt_tokens"), int):
            stats.prompt_tokens = usage["prompt_tokens"]
            stats.tokens_evaluated = usage["prompt_tokens"] - stats.tokens_reused
        if isinstance(usage.get("completion_tokens"), int):
            known = usage["completion_tokens"]
    timings = event.get("timings")
    if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
        stats.tokens_evaluated = timings["prompt_n"]
        stats.tokens_reused = int(timings.get("cache_n") or 0)
    return known
