"""The one settings tree: defaults < config.toml < HEARTH_* environment < command-line flags."""

from __future__ import annotations

import difflib
import os
import shlex
import sys
import tomllib
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from memory.errors import ConfigError

APP_NAME = "hearth"

ExtraBuffers = Literal["auto", "on", "off"]
Backend = Literal["llama-cpp", "openai"]
Extractor = Literal["auto", "rules", "model"]

# Every number has bounds: a value pydantic accepts (1e20 reads as an int) must not crash later.
MAX_CTX = 1 << 21
"""The largest context window (2M tokens) any setting that counts tokens may ask for."""


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


HttpURL = Annotated[str, AfterValidator(_http_url)]
"""A server's address: http:// or https://, without a trailing slash."""


class _Section(BaseModel):
    # Unknown keys are errors: a typo in config.toml must not be silently ignored.
    model_config = ConfigDict(extra="forbid")


def _default_threads() -> int:
    # On a small machine, llama.cpp with every core collapses when anything else runs
    # (98 -> 3 tokens/s measured on 2 cores); leave one core for the UI and the embedder.
    return max(1, (os.cpu_count() or 2) - 1)


class ModelSettings(_Section):
    """Which GGUF to load and how."""

    path: Path | None = None
    """A GGUF file to chat with; unset means models/ folders, then the embedded default."""
    n_ctx: int = Field(4096, ge=256, le=MAX_CTX)
    """Context window in tokens."""
    n_threads: int = Field(default_factory=_default_threads, ge=1, le=1024)
    """Threads llama.cpp uses for generation."""
    n_batch: int = Field(256, ge=8, le=MAX_CTX)
    """Prompt-processing batch size."""
    n_gpu_layers: int = Field(0, ge=-1, le=10_000)
    """Layers to offload to a GPU (-1 = all); 0 on CPU-only machines."""
    chat_template: str | None = None
    """A Jinja chat template to use instead of the one in the GGUF's metadata."""
    extra_buffer_types: ExtraBuffers = "auto"
    """llama.cpp's extra CPU buffer types (AMX kernels, weight repacking): `auto` is off on
    CPUs with AMX, whose llama.cpp path crashes, and on elsewhere."""
    backend: Backend = "llama-cpp"
    """What runs the model: "llama-cpp" (a GGUF loaded in this process) or "openai" (any
    OpenAI-compatible server at model.base_url: llama.cpp's server, vLLM, Ollama)."""
    base_url: HttpURL | None = None
    """The openai backend's server, up to and including /v1 (http://127.0.0.1:8080/v1)."""
    server_model: str | None = None
    """The model name sent to the server; unset: the first one its /v1/models lists."""
    api_key: SecretStr | None = None
    """The server's API key, from HEARTH_MODEL__API_KEY (never shown, logged or journaled)."""
    api_key_file: Path | None = None
    """A file holding the server's API key (its first line), read when api_key is unset."""
    timeout_s: float = Field(120.0, gt=0.0, le=86_400.0)
    """How long the openai backend waits for the server to answer (each piece of a reply)."""

    @field_validator("api_key_file")
    @classmethod
    def _readable_key(cls, value: Path | None) -> Path | None:
        if value is not None:
            value = value.expanduser()
            if not read_key_file(value):
                raise ValueError(f"{value} is empty; put the server's API key in it")
        return value

    @model_validator(mode="after")
    def _openai_has_url(self) -> ModelSettings:
        if self.backend == "openai" and self.base_url is None:
            raise ValueError(
                'model.backend = "openai" needs model.base_url, the server\'s address up to /v1 '
                "(http://127.0.0.1:8080/v1)"
            )
        return self

    def secret_key(self) -> SecretStr | None:
        """The API key: model.api_key, else the first line of model.api_key_file."""
        if self.api_key is not None:
            return self.api_key
        if self.api_key_file is not None:
            return SecretStr(read_key_file(self.api_key_file))
        return None


def read_key_file(path: Path) -> str:
    """A key file's first line; a file that cannot be read is a ValueError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"cannot read the API key file {path}: {why}") from None
    return text.strip().splitlines()[0].strip() if text.strip() else ""


SMALL_MODEL_PARAMS = 1_000_000_000
SMALL_MODEL_MAX_TOKENS = 192
"""sampling.max_tokens, unless set, for a model under SMALL_MODEL_PARAMS: about 140 words."""


class SamplingSettings(_Section):
    """How replies are sampled."""

    temperature: float = Field(0.7, ge=0.0, le=100.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    top_k: int = Field(40, ge=0, le=1_000_000)
    min_p: float = Field(0.05, ge=0.0, le=1.0)
    repeat_penalty: float = Field(1.1, ge=0.0, le=100.0)
    max_tokens: int = Field(512, ge=1, le=MAX_CTX)
    """The most tokens one reply may have (also the reserve kept free in the window). Unset,
    a model under a billion parameters gets SMALL_MODEL_MAX_TOKENS: small models ramble."""
    seed: int | None = Field(None, ge=-1, le=2**32 - 1)
    ignore_eos: bool = False
    """Keep generating past end-of-sequence until max_tokens (benchmarks and tests)."""
    stop_loops: bool = True
    """Stop a reply that starts repeating itself (twelve words said twice), keeping it up to
    where the repeat began (agent/reply_end.py)."""


class ChatSettings(_Section):
    """Who Hearth is and who it talks to."""

    user_name: str = "you"
    """What Hearth calls the person it talks to ("you": the name they give in the chat)."""
    time_zone: str = ""
    """The person's time zone (an IANA name, "Europe/London"); "" is the system's. "Next
    Saturday" is worked out in it; the journal keeps UTC."""

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {value!r}; use an IANA name such as 'Europe/London',"
                    ' or "" for the system\'s'
                ) from None
        return value

    def local_time(self, at: datetime) -> datetime:
        """`at` on the person's clock (a naive time is taken as UTC, as the journal stores)."""
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        return at.astimezone(ZoneInfo(self.time_zone) if self.time_zone else None)

    persona: str = (
        "You are Hearth, a warm and attentive companion who remembers the person you talk to. "
        "Reply briefly and kindly."
    )
    """The system prompt: who Hearth is."""
    newline_key: str = "ctrl+j"
    """The key that inserts a newline in the chat input (enter sends)."""
    max_message_chars: int = Field(200_000, ge=1, le=100_000_000)
    """Longer messages are refused with a message (a stray 10 MB paste), never half-sent."""
    keys: dict[str, str] = Field(default_factory=dict)
    """Keys by action id over the defaults, e.g. `"chat.regenerate" = "ctrl+g"` under
    `[chat.keys]`; f1 in the chat lists every id with its key."""
    editor: str = ""
    """The command ctrl+o opens the message being typed in; empty: $VISUAL, else $EDITOR, else
    vi."""

    def editor_command(self) -> list[str]:
        """The editor as argv (the file's path goes last)."""
        chosen = self.editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        return shlex.split(chosen)


class MemorySettings(_Section):
    """How memories are embedded, indexed and recalled (the fusion: memory/graph/retrieval.py)."""

    k: int = Field(8, ge=1, le=1000)
    """How many memories a search returns by default."""
    overfetch: int = Field(5, ge=1, le=100)
    """Each ranker fetches k * overfetch candidates; filters then run on those in SQLite."""
    ef_search: int = Field(256, ge=16, le=100_000)
    """HNSW search width in Chroma; at least k * overfetch. Chroma's default is not reproducible."""
    ef_construction: int = Field(128, ge=16, le=100_000)
    """HNSW build width: higher builds slower and recalls better."""
    rrf_k: float = Field(60.0, gt=0.0, le=1e6)
    """Reciprocal-rank fusion constant: a hit at rank r adds weight / (rrf_k + r)."""
    weight_dense: float = Field(1.0, ge=0.0, le=1000.0)
    """Fusion weight of the embedding (cosine) ranking."""
    weight_lexical: float = Field(1.0, ge=0.0, le=1000.0)
    """Fusion weight of the FTS5 bm25 ranking."""
    weight_recency: float = Field(0.3, ge=0.0, le=1000.0)
    """Fusion weight of the recency ranking (most recently learned first)."""
    weight_importance: float = Field(0.3, ge=0.0, le=1000.0)
    """Fusion weight of the importance ranking."""
    weight_graph: float = Field(0.5, ge=0.0, le=1000.0)
    """Fusion weight of one hop of graph neighbours of the best dense and lexical hits."""
    weight_person: float = Field(1.0, ge=0.0, le=1000.0)
    """Fusion weight of being about someone the query names (stored under them, or the user's
    own memory that says their name), such memories ranked among themselves by the rest."""
    person_relevance: float = Field(0.5, ge=0.0, le=1.0)
    """A memory about a named person is lifted only if its meaning is at least this share of
    the best match's cosine similarity: facts about them off the question's topic stay put."""
    graph_seeds: int = Field(5, ge=0, le=1000)
    """How many of the best hits lend their neighbours to the graph ranking."""
    recency_half_life_days: float = Field(30.0, gt=0.0, le=1e6)
    """Age at which a memory's recency score halves (shown in each hit's `recency`)."""
    embed_batch_size: int = Field(64, ge=1, le=4096)
    """Texts embedded per batch."""
    idle_sleep_minutes: float = Field(30.0, ge=0.0, le=1e6)
    """The chat runs `hearth sleep` by itself once it has been idle (no turn) this long, once
    per idle spell, in the background; 0 never does."""
    embedder: str = "bundled"
    """The embedding model: "bundled" (all-MiniLM-L6-v2, shipped with Hearth) or the path of a
    sentence-transformers model folder. Changing it means `hearth memory rebuild --reembed`."""

    @field_validator("embedder")
    @classmethod
    def _embedder_folder(cls, value: str) -> str:
        if value == "bundled":
            return value
        folder = Path(value).expanduser()
        if not (folder / "1_Pooling" / "config.json").is_file():
            raise ValueError(
                f"{folder} is not a sentence-transformers model folder (no 1_Pooling/config.json); "
                'use "bundled" or a folder saved with SentenceTransformer.save()'
            )
        return str(folder)

    chroma: str = "embedded"
    """Where the vector index lives: "embedded" (chroma/ in the data dir) or a Chroma server's
    URL (http://127.0.0.1:8000), where this data dir gets a tenant of its own. The memories
    themselves stay in memory.sqlite3 either way; `hearth memory migrate --to` moves the index."""
    chroma_token: SecretStr | None = None
    """A bearer token for a Chroma server that asks for one, from HEARTH_MEMORY__CHROMA_TOKEN
    (never shown or logged)."""

    @field_validator("chroma")
    @classmethod
    def _embedded_or_url(cls, value: str) -> str:
        if value == "embedded":
            return value
        if not value.startswith(("http://", "https://")):
            raise ValueError(f'{value!r} is neither "embedded" nor an http:// or https:// URL')
        return value.rstrip("/")

    recall_k: int = Field(6, ge=0, le=200)
    """The most memories shown with one message."""
    recall_tokens: int = Field(256, ge=0, le=MAX_CTX)
    """Token budget for the memories shown with one message (at most an eighth of the window)."""
    recall_min_score: float = Field(0.0, ge=0.0, le=1000.0)
    """Fused score below which a memory is not shown (0: keep the best recall_k)."""
    extractor: Extractor = "auto"
    """What finds memories in a message: "rules" (English only, no model), "model" (the chat
    model, under a JSON schema, every quote checked against the message) or "auto" (the model
    once it passes a short built-in probe, else the rules; `hearth models info` says which)."""


DEFAULT_SERVE_PORT = 8765
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ServeSettings(_Section):
    """`hearth serve`: where it listens and who may reach it (agent/serving/)."""

    host: str = "127.0.0.1"
    """The address to listen on. Anything but loopback lets other machines connect: every
    request still needs the token (serve.token in the data dir)."""
    port: int = Field(DEFAULT_SERVE_PORT, ge=0, le=65535)
    """The port to listen on (0: any free one; `serve.json` in the data dir says which)."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names requests may be addressed to besides the listening address and localhost
    (a name the server is reached by on the network); any other Host header is refused, so a
    web page cannot reach it by rebinding a name of its own to 127.0.0.1."""
    allowed_origins: list[str] = Field(default_factory=list)
    """Web origins (https://chat.example) whose pages may call it from a browser; a request
    from any other page (it carries an Origin header) is refused."""
    max_new_messages: int = Field(2000, ge=1)
    """Messages Hearth has not seen that one request may bring (the conversation a client
    resends is never counted); more is refused (413) before anything is journaled."""
    max_request_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    """The largest request body (413 past it)."""
    max_request_windows: int = Field(4, ge=1)
    """The new text of one request may be at most this many times model.n_ctx in tokens."""


class RemoteSettings(_Section):
    """A Hearth served elsewhere (`hearth serve` on another machine) that the CLI talks to."""

    url: HttpURL | None = None
    """Its address (http://desktop:8765), the same as --connect URL; unset: this machine's."""
    token: SecretStr | None = None
    """Its token (the serve.token file in its data dir), from HEARTH_REMOTE__TOKEN (never
    shown or logged)."""
    token_file: Path | None = None
    """A file holding its token (the first line), read when token is unset."""
    timeout_s: float = Field(600.0, gt=0.0, le=86_400.0)
    """How long to wait for it to answer (a reply may wait for another one to end)."""
    busy_wait_s: float = Field(60.0, gt=0.0, le=86_400.0)
    """How long a write (a turn, a memory added or forgotten) waits for a server busy with
    other turns to take it; then it is given up (exit 23), nothing of it made there."""

    def secret_token(self) -> SecretStr | None:
        """The token: remote.token, else the first line of remote.token_file."""
        if self.token is not None:
            return self.token
        if self.token_file is not None:
            return SecretStr(read_key_file(self.token_file.expanduser()))
        return None


FaultPoint = Literal[
    "before-memory-write",
    "mid-memory-write",
    "before-index-write",
    "commit-fsync-error",
    "mid-restore-swap",
]


class TestingSettings(_Section):
    """For Hearth's own fault tests only (docs/architecture.md, "Fault points"); never in use."""

    fault_point: FaultPoint | None = None
    """A place where the process dies (kill -9 itself) or fails as a broken disk would."""


class Settings(BaseSettings):
    """Every setting Hearth has, typed, with its source order fixed."""

    model_config = SettingsConfigDict(
        env_prefix="HEARTH_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    model: ModelSettings = Field(default_factory=ModelSettings)
    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    remote: RemoteSettings = Field(default_factory=RemoteSettings)
    # Hidden from `config show`: a test's switch, not a person's setting.
    testing: TestingSettings = Field(default_factory=TestingSettings, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (flags) > environment > config.toml > defaults
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file.get())
        return (init_settings, env_settings, toml)


class _HomeSettings(BaseSettings):
    """HEARTH_HOME alone, read before everything else because it says where config lives."""

    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore")
    home: Path | None = None


_config_file: ContextVar[Path | None] = ContextVar("hearth_config_file", default=None)


class Paths(BaseModel):
    """Where Hearth keeps its config and data on this machine."""

    config_file: Path
    data_dir: Path
    models_dir: Path

    @property
    def journal(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "hearth.log"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "hearth.lock"

    @property
    def runs_dir(self) -> Path:
        """One marker per running process; a marker left behind means that run died."""
        return self.data_dir / "runs"

    @property
    def exports_dir(self) -> Path:
        """Where `hearth export` writes by default; a forget rewrites what is in here."""
        return self.data_dir / "exports"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def chroma_server_id(self) -> Path:
        """The random id that names this data dir's tenant on a Chroma server (memory.chroma)."""
        return self.data_dir / "chroma-server.id"

    @property
    def memory_db(self) -> Path:
        return self.data_dir / "memory.sqlite3"

    @property
    def extractor_probe(self) -> Path:
        """What the model extractor's probe decided, per model file (a cache)."""
        return self.data_dir / "extractor-probe.json"

    @property
    def rejections_key(self) -> Path:
        """The key of the hashes that keep rejected memories from being learned again."""
        return self.data_dir / "rejections.key"

    @property
    def gguf_info(self) -> Path:
        """What each GGUF's metadata says, by path, size and modification time (a cache: the
        reading takes seconds for a large vocabulary)."""
        return self.data_dir / "gguf-info.json"

    @property
    def serve_token(self) -> Path:
        """The token every request to `hearth serve` carries (created by the first serve)."""
        return self.data_dir / "serve.token"

    @property
    def serve_address(self) -> Path:
        """Where a running `hearth serve` listens (its pid and URL), for the local commands."""
        return self.data_dir / "serve.json"


def resolve_paths() -> Paths:
    """HEARTH_HOME holds everything when set; otherwise the platform's usual folders."""
    home = _HomeSettings().home
    if home is not None:
        home = home.expanduser().resolve()
        return Paths(config_file=home / "config.toml", data_dir=home, models_dir=home / "models")
    data = Path(platformdirs.user_data_dir(APP_NAME))
    config = Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"
    return Paths(config_file=config, data_dir=data, models_dir=data / "models")


def _format_error(err: ValidationError, source: Path) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown setting"
    return (
        f"bad setting '{key}': {msg} (check {source} and HEARTH_* environment variables; "
        "`hearth config show` lists valid settings)"
    )


def load_settings(paths: Paths, overrides: dict[str, Any] | None = None) -> Settings:
    """Load settings from every source; a bad file or value raises ConfigError with one line."""
    cfg = paths.config_file
    if cfg.exists():
        try:
            with cfg.open("rb") as fh:
                tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg} is not valid TOML: {exc}; fix or remove it") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{cfg} is not UTF-8 text (byte {exc.start}); save it as UTF-8 or remove it"
            ) from exc
        except OSError as exc:
            raise ConfigError(f"cannot read {cfg}: {exc.strerror}") from exc
    token = _config_file.set(cfg if cfg.exists() else None)
    try:
        settings = Settings(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, cfg)) from exc
    finally:
        _config_file.reset(token)
    for line in unknown_environment():
        if line not in _warned:
            _warned.add(line)
            # The CLI's consoles live above this layer; this is its `hearth: warning:` line.
            print(f"hearth: warning: {line}", file=sys.stderr)
    return settings


_warned: set[str] = set()

# Read by scripts/setup, not by Hearth: never warned about.
_NOT_SETTINGS = {
    "HEARTH_LLAMA_NATIVE": "scripts/setup",
    "HEARTH_LLAMA_CMAKE_ARGS": "scripts/setup",
    "HEARTH_WHEEL_CACHE": "scripts/setup",
}


def _known_variables() -> dict[str, str]:
    """HEARTH_SECTION__FIELD for every setting (and HEARTH_SECTION, a whole section as JSON)."""
    known = {"HEARTH_HOME": "home", **_NOT_SETTINGS}
    for section, info in Settings.model_fields.items():
        known[f"HEARTH_{section.upper()}"] = section
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name in model.model_fields:
            known[f"HEARTH_{section.upper()}__{name.upper()}"] = f"{section}.{name}"
    return known


def unknown_environment() -> list[str]:
    """A line for each HEARTH_* variable that names no setting: pydantic-settings ignores them,
    so a misspelled section (HEARTH_SAMPLNG__TEMPERATURE) would silently change nothing."""
    known = _known_variables()
    lines = []
    for var in sorted(os.environ):
        name = var.upper()
        if not name.startswith("HEARTH_") or name in known:
            continue
        settings = [k for k in known if k not in _NOT_SETTINGS]
        close = difflib.get_close_matches(name, settings, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]} ({known[close[0]]})?" if close else ""
        lines.append(f"{var} names no setting and is ignored{hint}")
    return lines
