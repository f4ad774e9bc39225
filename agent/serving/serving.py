"""What `hearth serve` serves: one opened data dir and its agent, one request's turn at a time,
reads beside the turn, every request's work stopped when its client leaves or the server
stops."""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request

from agent import feedback
from agent.context import check_fits
from agent.serving.limits import Gone, Limits
from agent.serving.schemas import Said, TurnRequest
from agent.serving.threads import Placement, find_session, matched, place
from agent.turn import check_length
from agent.turn_result import TurnResult
from memory.errors import ConfigError, NotFoundError
from memory.journal.schemas import Message, Session
from memory.settings import LOOPBACK, SamplingSettings, ServeSettings

if TYPE_CHECKING:
    from agent.learn.consolidation import SleepReport
    from agent.startup import Home
    from agent.turn import Agent
    from memory.coordination.lending import Borrower
    from memory.graph.store import MemoryStore

log = logging.getLogger(__name__)

SESSION_HEADER = "X-Hearth-Session"
"""A request names the session it continues by its id here; a reply says which it went in."""
Piece = Callable[[str], None]
IDLE_CHECK_S = 30.0
"""How often the server looks whether it has been idle long enough to consolidate."""
POLL_S = 0.2
"""How often a request waiting for the turn looks whether its client has left."""

T = TypeVar("T")


@dataclass
class Serving:
    """What the app serves: one opened data dir and its agent, one request's turn at a time
    (a request is placed in the journal and answered before the next is placed); reads of
    the memory and the journal go on beside the turn."""

    home: Home
    agent: Agent
    token: str
    settings: ServeSettings
    turns: threading.Lock
    last_turn: float = field(default_factory=time.monotonic)
    """When the last request's turn ended (time.monotonic): the idle time `tend` waits for."""
    closing: threading.Event = field(default_factory=threading.Event)
    _stops: set[threading.Event] = field(default_factory=set)
    """The stop of every request at work (`close` and `stop_all` set them)."""
    _stops_lock: threading.Lock = field(default_factory=threading.Lock)
    _lent: threading.Lock = field(default_factory=threading.Lock)
    """Held while the data dir is lent to a command beside the server, and by each read."""

    @classmethod
    def of(cls, home: Home, agent: Agent, token: str) -> Serving:
        return cls(home, agent, token, home.settings.serve, threading.Lock())

    @property
    def limits(self) -> Limits:
        return Limits.of(self.settings, self.agent.settings.model.n_ctx)

    def tend(
        self,
        stopping: threading.Event,
        done: Callable[[SleepReport | None, str | None], None] | None = None,
        check_s: float = IDLE_CHECK_S,
    ) -> None:
        """Until `stopping`: `hearth sleep` once per idle spell (memory.idle_sleep_minutes
        without a turn), on the memory worker, as the chat does. Run on a thread of its own."""
        idle_s = self.agent.settings.memory.idle_sleep_minutes * 60
        slept_after: float | None = None
        while idle_s > 0 and not stopping.wait(check_s):
            since = self.last_turn
            if since != slept_after and time.monotonic() - since >= idle_s:
                slept_after = since
                self.agent.sleep_when_idle(done or _slept)

    # -- who may ask ---------------------------------------------------------------------

    def refusal(self, request: Request) -> tuple[int, str] | None:
        """Why a request is refused (HTTP status, one line), or None."""
        host = _hostname(request.headers.get("host", ""))
        allowed = {
            _hostname(h) for h in (*LOOPBACK, self.settings.host, *self.settings.allowed_hosts)
        }
        # A web page that rebinds a name of its own to this address still sends its name; an
        # address (what a machine on the network uses for a wildcard bind) names no page.
        if host not in allowed and not _address(host):
            return (
                403,
                f"requests addressed to {host!r} are refused; serve.allowed_hosts lists others",
            )
        origin = request.headers.get("origin")
        if origin is not None and origin not in self.settings.allowed_origins:
            return 403, (
                f"requests from the web page at {origin} are refused; "
                "serve.allowed_origins lists the pages that may call Hearth"
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # As bytes: compare_digest refuses str that is not ASCII (headers arrive as latin-1).
        sent, token = given.strip().encode("latin-1"), self.token.encode()
        if scheme.lower() != "bearer" or not token or not hmac.compare_digest(sent, token):
            return 401, (
                "no valid token: send `Authorization: Bearer TOKEN`, the token in serve.token "
                "in Hearth's data dir"
            )
        return None

    # -- conversations -------------------------------------------------------------------

    def session_for(
        self, named: str | None, user: str | None, said: list[Said], stop: threading.Event
    ) -> Session:
        """The session a request goes in: the one it names by id, the one its `user` names,
        the recent one it continues, or a new one. Its new messages are checked against the
        limits first (`Refused`): a refused request leaves nothing behind, not even a
        session; counting stops when its client leaves (`Gone`)."""
        journal = self.agent.journal
        with self.working(stop):
            found: Session | None
            if named:
                try:
                    found = journal.session(int(named))
                except ValueError:
                    raise NotFoundError(
                        f"{SESSION_HEADER} must be a session id, not {named!r}"
                    ) from None
            elif user:
                found = journal.named_session(user)
            else:
                found = find_session(journal, said)
            new = said[matched(journal, found, said[:-1]) :]
            self.limits.check(new, self.agent.backend.count_text, stop)
            # The message to answer must fit the window alone (else 413, exit 26), never cut.
            agent = self.agent
            check_fits(
                agent.settings.chat.persona, said[-1].text, agent.budget, agent.backend.count_tokens
            )
            if stop.is_set():
                raise Gone
            if found is not None:
                return found
            return journal.client_session(user) if user else journal.create_session()

    def answer(
        self,
        session: Session,
        said: list[Said],
        sampling: SamplingSettings,
        on_piece: Piece | None,
        stop: threading.Event,
        background: bool,
    ) -> tuple[TurnResult, Placement]:
        """The request's last message answered where it belongs in the journal."""
        agent, text = self.agent, said[-1].text
        check_length(text, self.agent.settings.chat)
        later = _remembered if background else None
        with self._turn(stop):
            # Counted again under the turn: another request may have changed the session.
            placed = place(agent.journal, session, said, check=self.limits.check_count)
            if placed.action == "regenerate":
                assert placed.user_id is not None
                if "seed" not in sampling.model_fields_set:
                    sampling = sampling.model_copy(update={"seed": secrets.randbits(31)})
                result = agent.reply_to(
                    placed.user_id,
                    on_piece=on_piece,
                    stop=stop,
                    sampling=sampling,
                    on_remembered=later,
                )
                agent.journal.choose(result.turn_id)
            elif placed.action == "edit":
                assert placed.user_id is not None
                edited = agent.journal.edit(placed.user_id, text)
                result = agent.reply_to(
                    edited.id, on_piece=on_piece, stop=stop, sampling=sampling, on_remembered=later
                )
            else:
                if placed.parent_id is not None:
                    agent.journal.set_head(session.id, placed.parent_id)
                result = agent.run_turn(
                    session.id,
                    text,
                    on_piece=on_piece,
                    stop=stop,
                    sampling=sampling,
                    on_remembered=later,
                )
        log.info(
            "served %s in session %s: reply %s (%d journaled before, %d added)",
            placed.action,
            session.id,
            result.turn_id,
            placed.matched,
            placed.added,
        )
        return result, placed

    def say(
        self,
        body: TurnRequest,
        on_piece: Piece | None,
        stop: threading.Event,
        on_session: Callable[[int], None] | None = None,
    ) -> TurnResult:
        """One turn as `hearth say` runs it; `on_session` is told its session first. The
        sampling it sends (the command's own settings) applies; none sent: the server's."""
        agent = self.agent
        check_length(body.text, agent.settings.chat)
        with self._turn(stop):
            new = body.new or (not body.memory and body.session is None)
            session = agent.session(body.session, new=new)
            if on_session is not None:
                on_session(session.id)
            try:
                return agent.run_turn(
                    session.id,
                    body.text,
                    on_piece=on_piece,
                    stop=stop,
                    use_memory=body.memory,
                    sampling=body.sampling,
                )
            finally:
                if not body.memory and not body.stay:
                    agent.leave(session.id)

    def regenerate(
        self,
        message_id: int,
        keep: bool,
        on_piece: Piece | None,
        stop: threading.Event,
        on_session: Callable[[int], None] | None = None,
    ) -> TurnResult:
        """Another reply beside reply `message_id` (or to person's message `message_id`), as
        the chat's regenerate makes it (`agent.feedback.regenerate`); never a dream's. As in
        `say`, what the turn remembers is written before the result (`TurnResult.stored`)."""
        with self._turn(stop):
            message = feedback.not_a_dream(self.agent.journal, message_id)
            if on_session is not None:
                on_session(message.session_id)
            return feedback.regenerate(
                self.agent,
                message_id,
                on_piece=on_piece,
                stop=stop,
                keep=keep,
            )

    def edit(
        self,
        message_id: int,
        text: str,
        answer: bool,
        on_edited: Callable[[Message], None],
        on_piece: Piece | None,
        stop: threading.Event,
        on_session: Callable[[int], None] | None = None,
    ) -> TurnResult | None:
        """A corrected version of a message beside it (`agent.feedback.edit`), `on_edited`
        told it; an edited person's message is then answered, a new branch (with `answer`),
        what it says remembered before the result."""
        agent = self.agent
        check_length(text, agent.settings.chat)
        with self._turn(stop):
            edited = feedback.edit(agent.journal, message_id, text)
            on_edited(edited)
            if edited.role != "user" or not answer:
                return None
            if on_session is not None:
                on_session(edited.session_id)
            return agent.reply_to(edited.id, on_piece=on_piece, stop=stop)

    def write(self, change: Callable[[], T], stop: threading.Event) -> T:
        """A change of the journal the chat makes (a choice, a rating, a session renamed or
        deleted), between turns; not made if its client left while it waited."""
        with self.working(stop), self._waiting(self.turns, stop):
            if stop.is_set():
                raise Gone
            return change()

    # -- work and its stops --------------------------------------------------------------

    @contextlib.contextmanager
    def working(self, stop: threading.Event) -> Iterator[None]:
        """A request at work: `close` and `stop_all` set its stop; none begins once closing."""
        with self._stops_lock:
            self._stops.add(stop)
        try:
            if self.closing.is_set():
                stop.set()
                raise Gone
            yield
        finally:
            with self._stops_lock:
                self._stops.discard(stop)

    @contextlib.contextmanager
    def _turn(self, stop: threading.Event) -> Iterator[None]:
        """One request's turn, after the one before it: not begun if its client left while it
        waited (nothing of it is journaled) or the server is closing; `close` sets its stop."""
        with self.working(stop), self._waiting(self.turns, stop):
            if stop.is_set() or self.closing.is_set():
                raise Gone
            try:
                yield
            finally:
                self.last_turn = time.monotonic()

    @contextlib.contextmanager
    def _waiting(self, lock: threading.Lock, stop: threading.Event) -> Iterator[None]:
        """`lock`, waited for while the request's client is still there."""
        while not lock.acquire(timeout=POLL_S):
            if stop.is_set() or self.closing.is_set():
                raise Gone
        try:
            yield
        finally:
            lock.release()

    def stop_all(self) -> None:
        """Stop every request's work now (SIGTERM, ctrl+c): the running reply is kept as
        interrupted, waiting and counting ones end without journaling anything."""
        self.closing.set()
        with self._stops_lock:
            for stop in self._stops:
                stop.set()

    def close(self) -> None:
        """Stop the running turn (its reply kept as interrupted) and wait for it and its memory
        write: the stores close next."""
        self.stop_all()
        with self.turns:
            self.agent.settle()

    @contextlib.contextmanager
    def lend(self, borrower: Borrower) -> Iterator[int]:
        """The data dir handed to a command run beside the server (coordination/lending.py):
        after the running request's turn and memory write, the store closed until it is back."""
        with self.turns, self.agent.paused(), self._lent:
            fd = self.home.lend()
            self.agent.store = None
            try:
                yield fd
            finally:
                try:
                    self.home.take_back()
                finally:
                    self.agent.store = self.home.store
                log.info("data dir back from %s (pid %s)", borrower.command, borrower.pid)

    # -- memory --------------------------------------------------------------------------

    def read(self, look: Callable[[MemoryStore], T]) -> T:
        """A read of the memory, beside the running turn (never waiting for it): SQLite and
        the index take readers while the turn's write goes on."""
        with self._lent:
            store = self.agent.store
            if store is None:
                raise ConfigError("memory is off in this Hearth, so there is nothing to read")
            return look(store)

    def memory(self, change: Callable[[MemoryStore], T], stop: threading.Event) -> T:
        """A change of the memory, between turns (the store takes one writer); not made if
        its client left while it waited."""
        with self.working(stop), self._waiting(self.turns, stop):
            if stop.is_set():
                raise Gone
            return self.agent.change_memory(change)


def _slept(report: SleepReport | None, error: str | None) -> None:
    if error is not None:
        log.error("idle consolidation: %s", error)
    elif report is not None:
        log.info("idle consolidation: %s", report.model_dump_json())


def _remembered(reply_id: int, stored: list[str], error: str | None) -> None:
    if error is not None:
        log.error("remembering for reply %s failed: %s", reply_id, error)


def _hostname(host: str) -> str:
    """The name in a Host header (or a setting), without its port, as DNS compares it."""
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.rpartition(":")[0]
    return host.lower().rstrip(".")


def _address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
