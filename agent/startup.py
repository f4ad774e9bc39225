"""Opening Hearth: the data dir, settings, journal and model a command needs, in that order."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.catch_up import remember_missed
from agent.context import system_prompt
from agent.learn.choice import ExtractorChoice, choose
from agent.learn.extract import compile_rules
from agent.learn.model_extract import ModelExtractor
from agent.learn.probe import ProbeRun, save
from agent.runtime.backend import LlamaBackend, require_local
from agent.runtime.crashes import RunGuard, enable_fault_log, run_name
from agent.runtime.factory import extra_buffers
from agent.runtime.gguf import read_info
from agent.runtime.loading import Beside, short_switches
from agent.runtime.model_files import ResolvedModel, resolve_model
from agent.runtime.model_hash import model_sha256
from agent.runtime.native_log import stderr_to
from agent.turn import Agent
from memory import faults, restore_swap
from memory.coordination.lock import DataDirLock
from memory.damage import refuse_mismatch
from memory.datadir import ensure_data_dir
from memory.errors import ConfigError, StorageError

# Registers the exports with the forget (memory.graph.forget_exports): every process that opens
# a data dir reaches them when it forgets.
from memory.export import scrubbing as _exports_reached_by_forget  # noqa: F401
from memory.graph import chroma_import
from memory.graph.embedder import make_embedder
from memory.journal.journal import Journal
from memory.journal.schemas import ChatMessage, ModelInfo
from memory.settings import (
    SMALL_MODEL_MAX_TOKENS,
    SMALL_MODEL_PARAMS,
    Paths,
    Settings,
    load_settings,
    resolve_paths,
)
from memory.sqlite import full_disk

if TYPE_CHECKING:
    from agent.runtime.openai_backend import OpenAIBackend
    from memory.graph.embedder import Embedder
    from memory.graph.store import MemoryStore


@dataclass
class Home:
    """An opened data dir: where things live, the settings in force, and the journal."""

    paths: Paths
    settings: Settings
    journal: Journal
    lock: DataDirLock | None = field(default=None)
    store: MemoryStore | None = field(default=None)
    run: RunGuard | None = field(default=None)
    purged_off_record: int = 0
    """Off-record messages a crash had left behind, deleted as this home opened for writing."""
    _reopen_store: bool = field(default=False, repr=False)
    """Lent with the memory store open: `take_back` reopens it, with `_lent_embedder`."""
    _lent_embedder: Embedder | None = field(default=None, repr=False)

    def open_store(self, embedder: Embedder | None = None) -> MemoryStore:
        """The memory graph, opened for writing under this home's lock (once)."""
        if self.store is None:
            from memory.graph.store import MemoryStore

            self.store = MemoryStore.open(
                self.paths, self.settings, write=True, lock=self.lock, embedder=embedder
            )
        return self.store

    def lend(self) -> int:
        """Close the memory store so another command can use the data dir
        (memory/coordination/lending.py; the agent must be paused); the lock file to hand it. The
        lock itself stays held, shared with the command."""
        if self.lock is None:
            raise RuntimeError("this Hearth does not hold the data dir")
        if self.store is not None:
            self._reopen_store, self._lent_embedder = True, self.store.loaded_embedder
            self.store.close()
            self.store = None
        return self.lock.fileno()

    def take_back(self) -> None:
        """After the command: the memory store reopened if `lend` closed it, with the embedder
        it had loaded (no second load). Nothing once this home is closed."""
        reopen, embedder = self._reopen_store, self._lent_embedder
        self._reopen_store, self._lent_embedder = False, None
        if reopen and self.lock is not None:
            self.open_store(embedder)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        self.journal.close()
        # Twice is harmless: a test closes one to open the data dir again.
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if self.run is not None:
            self.run.end()
            self.run = None


class QuietFileHandler(logging.FileHandler):
    """The log file, where a failed write (a full disk, a read-only file) is dropped: the log is
    a diagnostic, and logging's own traceback on the screen would bury the one-line error."""

    def emit(self, record: logging.LogRecord) -> None:
        # The delayed open happens here, outside logging's own error handling.
        with contextlib.suppress(OSError):
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        return


def setup_logging(log_file: Path) -> None:
    # delay: the file opens at the first record, so one that cannot be opened is quiet too.
    handler = QuietFileHandler(log_file, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.FileHandler)]
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def open_home(
    overrides: dict[str, Any] | None = None,
    *,
    write_lock: bool = False,
    purge_off_record: bool = True,
    borrow: bool = False,
) -> Home:
    """Settings are checked before anything is written, so a bad config changes nothing.

    With the write lock, off-record messages left by a run that died before its person left
    the session are deleted first (the lock means no other run is still in one), unless
    `purge_off_record` is False. With `borrow`, an open chat holding the data dir is asked
    to lend it (memory/coordination/lending.py); a borrowed data dir purges nothing, since
    the chat may be in an off-record session."""
    paths = resolve_paths()
    settings = load_settings(paths, overrides)
    faults.arm(settings.testing.fault_point)
    ensure_data_dir(paths.data_dir)
    setup_logging(paths.log_file)
    enable_fault_log(paths.log_file)
    restore_swap.settle(paths.data_dir, paths.lock_file)
    lock = None
    if write_lock:
        lock = DataDirLock(paths.lock_file).acquire(borrow=run_name() if borrow else None)
    run = RunGuard.begin(
        paths.runs_dir,
        paths.log_file,
        run_name(),
        extra_buffers=extra_buffers(settings.model).use,
    )
    try:
        if write_lock:
            # Only writers: readers add no message that could take an old id.
            refuse_mismatch(paths.journal, paths.memory_db)
        journal = Journal(paths.journal)
    except BaseException:
        run.end()
        if lock is not None:
            lock.release()
        raise
    home = Home(paths=paths, settings=settings, journal=journal, lock=lock, run=run)
    if write_lock and purge_off_record and not (lock is not None and lock.borrowed):
        try:
            home.purged_off_record = _purge_leftovers(journal)
        except BaseException:
            home.close()
            raise
    return home


def _purge_leftovers(journal: Journal) -> int:
    if full_disk(journal.path) is not None:
        return 0  # nothing can be written; the next start with room purges them
    try:
        purged = journal.purge_off_record()
    except StorageError as exc:
        # They stay unreadable to every export, recall and prompt; the next start tries again.
        logging.getLogger(__name__).warning("off-record leftovers not purged: %s", exc)
        return 0
    if purged:
        logging.getLogger(__name__).info("purged %d off-record messages left by a crash", purged)
    return purged


def pick_model(home: Home) -> ResolvedModel:
    resolved = resolve_model(home.settings.model.path, home.paths.models_dir)
    read_info(resolved.path)  # header and metadata checked before llama.cpp sees the file
    return resolved


def measuring_model(home: Home, what: str, session: int | None) -> tuple[ResolvedModel, str]:
    """The GGUF a command that reads log-probabilities loads (`what` it is, refused under the
    openai backend), and its sha256, which the journal files its figures under; the session
    it is limited to, if any, checked first (before the file is read)."""
    require_local(home.settings.model, what)
    if session is not None:
        home.journal.session(session)
    resolved = pick_model(home)
    return resolved, model_sha256(home.journal, resolved.path)


def check_model(home: Home) -> None:
    """What the chat will reply with, checked before its screen opens: the GGUF file, or the
    server (the openai backend), which must answer."""
    if home.settings.model.backend == "openai":
        connect(home.settings).close()
    else:
        pick_model(home)


def connect(settings: Settings) -> OpenAIBackend:
    """The openai backend, its server asked for its models (ModelServerError if it cannot be
    reached, refuses the key, or names no model)."""
    from agent.runtime.openai_backend import OpenAIBackend

    # httpx logs every request at INFO: one a token count would bury the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return OpenAIBackend(settings.model)


def load_agent(home: Home, resolved: ResolvedModel | None = None, *, memory: bool = True) -> Agent:
    """Load the model (llama.cpp's own chatter goes to the log file) and make the agent.

    The model loads on a thread of its own, then the embedder, while chromadb is imported
    here: the loads are C that lets go of the GIL and the import is Python, so on two cores
    they overlap (thread switches kept short meanwhile: `short_switches`); what is left of the
    wait compiles the rule extractor's patterns. The store opens once the loads are done: its
    Chroma calls scrub the heap (memory/heap.py), which would fill llama.cpp's untouched
    buffers too. A refused store (another writer, a changed embedder) is said then, and the
    model unloaded."""
    if home.settings.model.backend == "openai" and resolved is None:
        return _served_agent(home, home.open_store() if memory else None)
    chosen = resolved or pick_model(home)
    embedder = _embedder_for(home) if memory else None

    def load() -> LlamaBackend:
        # fd 2 is the process's: while the model loads, what the import beside it writes there
        # goes to the log too (the chat already runs with fd 2 in the log, its screen drawn
        # through a copy of the terminal: nothing here may swap that copy).
        with stderr_to(home.paths.log_file):
            return LlamaBackend(chosen.path, home.settings.model)

    with short_switches():
        loading = Beside(load, after=(lambda: embedder.embed(["warm up"])) if embedder else None)
        try:
            if memory:
                chroma_import.chromadb()
                if home.settings.memory.extractor != "model":
                    compile_rules(until=lambda: not loading.running)
            backend = loading.wait()
        except BaseException:
            unused = loading.abandon()
            if unused is not None:
                unused.llm.close()
            raise
    try:
        store = home.open_store(embedder) if memory else None
    except BaseException:
        backend.llm.close()
        raise
    if backend.template_fallback:
        logging.getLogger(__name__).warning("no chat template in %s: using ChatML", chosen.path)
    info = ModelInfo(
        name=backend.name,
        path=str(backend.path),
        sha256=model_sha256(home.journal, backend.path),
    )
    short_replies_for_small_models(home.settings, backend.info.parameters)
    agent = Agent(home.settings, home.journal, backend, info, store)
    check_window(agent)
    use_extractor(agent, backend, home.paths)
    _catch_up(home, agent)
    return agent


def _embedder_for(home: Home) -> Embedder:
    """The embedder the memory store will use: the open store's, or the one memory.embedder
    names (loaded beside the model, handed to the store as it opens)."""
    if home.store is not None:
        return home.store.embedder
    memory = home.settings.memory
    return make_embedder(memory.embedder, batch_size=memory.embed_batch_size)


def _catch_up(home: Home, agent: Agent) -> None:
    """A writing run first makes the memories earlier turns missed (agent/catch_up.py)."""
    if home.lock is not None and agent.store is not None:
        remember_missed(agent, home.paths.data_dir)


def _served_agent(home: Home, store: MemoryStore | None) -> Agent:
    """The agent over a model server: replies attributed to the server's model name."""
    if home.settings.memory.extractor == "model":
        require_local(home.settings.model, 'memory.extractor = "model"')
    # Under "auto" the rules extract (the agent's default): the probe needs a local model too.
    backend = connect(home.settings)
    logging.getLogger(__name__).info(
        "model server %s, model %s, token counts: %s", backend.url, backend.name, backend.tokenizer
    )
    agent = Agent(home.settings, home.journal, backend, backend.model_info(), store)
    check_window(agent)
    _catch_up(home, agent)
    return agent


def use_extractor(agent: Agent, backend: LlamaBackend, paths: Paths) -> ExtractorChoice:
    """Give the agent the extractor memory.extractor and the probe choose (agent/learn/
    choice.py). The model extractor runs on the chat's own instance, on the memory worker
    between turns, its KV cache kept (docs/benchmarks.md, "Model extractor"). Under `auto`
    with no decision yet, the rules extract while the probe reads one of its messages after
    each background write, and the model takes over if it passes."""
    choice = choose(agent.settings.memory.extractor, backend.path, backend.info.parameters, paths)
    model = ModelExtractor(backend)
    if choice.use == "model":
        agent.extract = model
    elif choice.pending:
        run = ProbeRun(backend.path)

        def probe_step() -> None:
            result = run.step(model.read)
            if result is not None:
                agent.after_write = None
                save(paths.extractor_probe, result)
                if result.passed:
                    agent.extract = model

        agent.after_write = probe_step
    return choice


def short_replies_for_small_models(settings: Settings, parameters: int | None) -> None:
    """A model under a billion parameters rambles (and loops) far past what the persona asks:
    unless the person set sampling.max_tokens, its replies stop at SMALL_MODEL_MAX_TOKENS."""
    small = parameters is not None and parameters < SMALL_MODEL_PARAMS
    if small and "max_tokens" not in settings.sampling.model_fields_set:
        settings.sampling = settings.sampling.model_copy(
            update={"max_tokens": min(settings.sampling.max_tokens, SMALL_MODEL_MAX_TOKENS)}
        )


def check_window(agent: Agent) -> None:
    """The system prompt the settings make must leave room in the window for a message.

    Counted once the model is loaded (its tokenizer and n_ctx are known), before any turn."""
    chat = agent.settings.chat
    persona = agent.backend.count_tokens(
        [ChatMessage(role="system", content=system_prompt(chat.persona, [], chat.user_name))]
    )
    # A message and its template need some room beside the persona: a quarter of the budget.
    room = agent.budget - agent.budget // 4
    if persona > room:
        raise ConfigError(
            f"chat.persona is {persona:,} tokens, more than the {room:,} this window allows "
            f"(model.n_ctx = {agent.settings.model.n_ctx:,} less sampling.max_tokens, with room "
            "for a message); shorten chat.persona or raise model.n_ctx"
        )
