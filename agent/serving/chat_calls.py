"""The calls the chat makes of a running Hearth (agent/serving/routes): the paths of a
session, the versions of a message, regenerate and edit streamed, ratings, sessions, dreams,
the memory panel and the person's word on a memory, each read into its type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from memory.errors import HearthServerError

if TYPE_CHECKING:
    from agent.dream.review import Dream
    from agent.reply_memories import ReplyMemories
    from agent.serving.hangup import Hangup
    from agent.serving.views import ShownMessage, Thread, Versions
    from agent.turn_result import TurnResult
    from agent.understanding import SessionFigures
    from memory.graph.nodes import ForgetReport, HistoryEntry, Memory
    from memory.journal.schemas import Session, SessionSummary
    from memory.journal.signals import Feedback


class ChatCalls:
    """What `Client` adds for the chat: each call one route, its answer typed (the types are
    imported when called: `hearth say` imports the client and needs none of them)."""

    @property
    def _url(self) -> str:
        """Where the Hearth serves (its errors name it)."""
        raise NotImplementedError

    def _json(self, method: str, path: str, wait: float | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _write(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _turn_lines(
        self,
        path: str,
        body: dict[str, Any],
        on_piece: Callable[[str], None] | None,
        hangup: Hangup | None,
        on_session: Callable[[int], None] | None,
        on_line: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any] | None:
        raise NotImplementedError

    def _relay(self, body: dict[str, Any]) -> Exception:
        raise NotImplementedError

    def path(
        self, session: int | None, head: int | None = None, off_record: bool = False
    ) -> Thread:
        """A session's conversation as the chat shows it, along the path ending at `head`
        (None: the session's head; no session: the latest)."""
        from agent.serving.views import Thread

        params: dict[str, Any] = {"off_record": off_record}
        if session is not None:
            params["session"] = session
        if head is not None:
            params["head"] = head
        return Thread.model_validate(self._json("GET", "/api/thread", params=params))

    def message(self, message_id: int) -> ShownMessage:
        from agent.serving.views import ShownMessage

        return ShownMessage.model_validate(self._json("GET", f"/api/messages/{message_id}"))

    def versions(self, message_id: int) -> Versions:
        """Every version of a message (a reply's regenerations, a person's edits)."""
        from agent.serving.views import Versions

        found = self._json("GET", f"/api/messages/{message_id}/versions")
        return Versions.model_validate(found)

    def choose_version(self, message_id: int, go_on: bool = True) -> Thread:
        """Keep this version (a reply over its siblings); with `go_on` the session goes on from
        where its conversation ended. The session's path as it is now."""
        from agent.serving.views import Thread

        found = self._write("POST", f"/api/messages/{message_id}/choose", json={"go_on": go_on})
        return Thread.model_validate(found)

    def go_on(
        self, session: int, head: int, chosen: Sequence[int] = (), browsed: Sequence[int] = ()
    ) -> Thread:
        """The session goes on from `head`; the replies in `chosen`, and those on the path
        answering a message in `browsed`, are kept over their siblings."""
        from agent.serving.views import Thread

        body = {"message_id": head, "chosen": list(chosen), "browsed": list(browsed)}
        return Thread.model_validate(
            self._write("POST", f"/api/sessions/{session}/head", json=body)
        )

    def regenerate(
        self,
        message_id: int,
        on_piece: Callable[[str], None] | None = None,
        keep: bool = True,
        hangup: Hangup | None = None,
        on_session: Callable[[int], None] | None = None,
    ) -> TurnResult:
        """Another reply beside reply `message_id` (or to person's message `message_id`),
        streamed as `turn` streams; `keep` records it as the reply kept."""
        from agent.turn_result import TurnResult

        path = f"/api/messages/{message_id}/regenerate"
        found = self._turn_lines(path, {"keep": keep}, on_piece, hangup, on_session)
        if found is None:
            raise HearthServerError(f"{self._url} ended the turn without a result; try again")
        return TurnResult.model_validate(found)

    def edit(
        self,
        message_id: int,
        text: str,
        on_piece: Callable[[str], None] | None = None,
        answer: bool = True,
        hangup: Hangup | None = None,
        on_session: Callable[[int], None] | None = None,
    ) -> tuple[ShownMessage, TurnResult | None]:
        """A corrected version of a message beside it, and, for a person's message (with
        `answer`), the reply to it on its new branch, streamed as `turn` streams."""
        from agent.serving.views import ShownMessage
        from agent.turn_result import TurnResult

        edited: list[ShownMessage] = []

        def line(found: dict[str, Any]) -> None:
            if "edited" not in found:
                raise self._relay(found)
            edited.append(ShownMessage.model_validate(found["edited"]))

        path, body = f"/api/messages/{message_id}/edit", {"text": text, "answer": answer}
        result = self._turn_lines(path, body, on_piece, hangup, on_session, line)
        if not edited:
            raise HearthServerError(f"{self._url} ended the edit without it; try again")
        return edited[0], None if result is None else TurnResult.model_validate(result)

    def rate(self, message_id: int, rating: int | None = None, note: str | None = None) -> Feedback:
        """Thumbs up (1), down (-1) or cleared (0) on a reply, and/or a note; None keeps it."""
        from memory.journal.signals import Feedback

        body = {"rating": rating, "note": note}
        return Feedback.model_validate(
            self._write("POST", f"/api/messages/{message_id}/feedback", json=body)
        )

    def sessions(self, words: str = "", archived: bool = False) -> list[SessionSummary]:
        """The chat sessions with every word (none: all), newest first."""
        from memory.journal.schemas import SessionSummary

        found = self._json("GET", "/api/sessions", params={"q": words, "archived": archived})
        return [SessionSummary.model_validate(s) for s in found]

    def open_session(self, session: int, leaving: int | None = None) -> Thread:
        """Switch to a session (leaving `leaving`: its off-record messages deleted); its path."""
        from agent.serving.views import Thread

        found = self._write("POST", f"/api/sessions/{session}/open", json={"leaving": leaving})
        return Thread.model_validate(found)

    def new_session(self, title: str = "") -> Session:
        from memory.journal.schemas import Session

        return Session.model_validate(self._write("POST", "/api/sessions", json={"title": title}))

    def rename_session(self, session: int, title: str) -> Session:
        """Name a session (empty: named by how it began)."""
        return self._change_session(session, {"title": title})

    def archive_session(self, session: int, archived: bool = True) -> Session:
        return self._change_session(session, {"archived": archived})

    def _change_session(self, session: int, body: dict[str, Any]) -> Session:
        from memory.journal.schemas import Session

        return Session.model_validate(self._write("PATCH", f"/api/sessions/{session}", json=body))

    def delete_session(self, session: int) -> int:
        """The session and its messages gone for good; how many messages went."""
        return int(self._write("DELETE", f"/api/sessions/{session}")["deleted"])

    def leave_session(self, session: int) -> int:
        """What was said off the record in the session deleted; how many messages went."""
        return int(self._write("POST", f"/api/sessions/{session}/leave")["purged"])

    def dreams(self, review: str | None = None) -> list[Dream]:
        """Every dream, oldest first (only those in one review state when asked)."""
        from agent.dream.review import Dream

        params = {"review": review} if review is not None else {}
        return [Dream.model_validate(d) for d in self._json("GET", "/api/dreams", params=params)]

    def dream(self, dream_id: int) -> Dream:
        from agent.dream.review import Dream

        return Dream.model_validate(self._json("GET", f"/api/dreams/{dream_id}"))

    def review_dream(self, dream_id: int, action: str, text: str | None = None) -> Dream:
        """Accept, reject or edit (`text`: the reply as it should be) one dream."""
        from agent.dream.review import Dream

        body = {"action": action, "text": text}
        return Dream.model_validate(
            self._write("POST", f"/api/dreams/{dream_id}/review", json=body)
        )

    def recalled(self, reply_id: int) -> ReplyMemories:
        """The memory panel's rows for a reply: recalled (each with why) and remembered."""
        from agent.reply_memories import ReplyMemories

        found = self._json("GET", f"/api/messages/{reply_id}/memories")
        return ReplyMemories.model_validate(found)

    def change_memory(
        self,
        memory_id: str,
        text: str | None = None,
        pinned: bool | None = None,
        accept: bool = False,
        secret: bool = False,
    ) -> Memory:
        """New words, pinned or not, accepted as right; None keeps a field."""
        from memory.graph.nodes import Memory

        body = {"text": text, "pinned": pinned, "accept": accept, "secret": secret}
        return Memory.model_validate(self._write("PATCH", f"/api/memories/{memory_id}", json=body))

    def reject(self, memory_id: str) -> ForgetReport:
        """The memory is wrong: forgotten, and its words never learned again."""
        from memory.graph.nodes import ForgetReport

        found = self._write("POST", f"/api/memories/{memory_id}/reject")
        return ForgetReport.model_validate(found)

    def session_versions(self, session: int) -> dict[int, list[int]]:
        """For each message of the session with other versions, all of their ids."""
        found = self._json("GET", f"/api/sessions/{session}/versions")
        return {int(k): [int(i) for i in v] for k, v in found.items()}

    def pinned(self) -> list[Memory]:
        """The pinned memories the prompt always shows."""
        from memory.graph.nodes import Memory

        found = self._json("GET", "/api/memories", params={"pinned": True})
        return [Memory.model_validate(m) for m in found]

    def history(self, memory_id: str) -> list[HistoryEntry]:
        from memory.graph.nodes import HistoryEntry

        found = self._json("GET", f"/api/memories/{memory_id}/history")
        return [HistoryEntry.model_validate(e) for e in found]

    def links(self, memory_id: str) -> list[tuple[str, bool, Memory | None]]:
        """The memory's edges: (type, outgoing, the memory at the other end or None)."""
        from memory.graph.nodes import Memory

        found = self._json("GET", f"/api/memories/{memory_id}/links")
        return [
            (
                str(e["type"]),
                bool(e["outgoing"]),
                None if e["other"] is None else Memory.model_validate(e["other"]),
            )
            for e in found
        ]

    def understanding(self) -> list[SessionFigures]:
        """What `hearth understanding` measured, by session."""
        from agent.understanding import SessionFigures

        found = self._json("GET", "/api/understanding")
        return [SessionFigures.model_validate(s) for s in found]
