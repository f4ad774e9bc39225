"""A session's conversation as the chat browses it: its path, one message, the versions of a
message; and what the person says of them (a version chosen, where to go on, a rating)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from agent import feedback
from agent.serving import views
from agent.serving.bridge import until_gone
from agent.serving.routes import ServingDep
from agent.serving.schemas import ChooseRequest, FeedbackRequest, HeadRequest
from memory.errors import FeedbackError, NotFoundError

router = APIRouter()


@router.get("/api/thread")
async def thread(
    serving: ServingDep,
    session: int | None = None,
    head: int | None = None,
    off_record: bool = False,
) -> dict[str, Any]:
    """A session's conversation as the chat shows it (no session: the latest, the one `hearth
    say` goes on in): the path ending at `head` (default: the session's), dream messages left
    out, and off-record ones unless asked for. Read beside a running turn."""
    found = await run_in_threadpool(views.thread, serving.agent.journal, session, head, off_record)
    return found.model_dump(mode="json")


@router.get("/api/messages/{message_id}")
async def message(message_id: int, serving: ServingDep) -> dict[str, Any]:
    journal = serving.agent.journal
    found = await run_in_threadpool(lambda: views.shown(journal, journal.message(message_id)))
    return found.model_dump(mode="json")


@router.get("/api/messages/{message_id}/versions")
async def versions(message_id: int, serving: ServingDep) -> dict[str, Any]:
    """Every version of the message (a reply's regenerations, a person's edits), oldest
    first, each with the last message of the conversation that went on from it."""
    found = await run_in_threadpool(views.versions_of, serving.agent.journal, message_id)
    return found.model_dump(mode="json")


@router.post("/api/messages/{message_id}/choose")
async def choose(
    message_id: int, body: ChooseRequest, request: Request, serving: ServingDep
) -> dict[str, Any]:
    """Keep this version: a reply over its siblings (a person's message is chosen by going on
    from it); with `go_on` the session goes on from where its conversation ended. Returns
    the session's path as it is now."""
    journal = serving.agent.journal

    def change() -> views.Thread:
        chosen = feedback.not_a_dream(journal, message_id)
        if chosen.role == "assistant":
            feedback.choose(journal, message_id)
        elif not body.go_on:
            raise FeedbackError(f"message {message_id} is not a reply: go on from it instead")
        if body.go_on:
            journal.set_head(chosen.session_id, journal.latest_leaf(message_id))
        return views.thread(journal, chosen.session_id)

    found = await until_gone(request, lambda stop: serving.write(change, stop))
    return found.model_dump(mode="json")


@router.post("/api/sessions/{session_id}/head")
async def go_on(
    session_id: int, body: HeadRequest, request: Request, serving: ServingDep
) -> dict[str, Any]:
    """The chat goes on from the path it shows: each reply browsed to on the way is kept over
    its siblings (those in `chosen`, and those answering a message in `browsed`), and the
    session's next message follows `message_id`."""
    journal = serving.agent.journal

    def change() -> views.Thread:
        if journal.message(body.message_id).session_id != session_id:
            raise NotFoundError(f"message {body.message_id} is not in session {session_id}")
        path = journal.thread(session_id, body.message_id)
        on_path = {m.id for m in path}
        for reply_id in body.chosen:
            if reply_id not in on_path:
                raise FeedbackError(f"reply {reply_id} is not on the path to {body.message_id}")
            feedback.choose(journal, reply_id)
        for m in path:
            if m.role == "assistant" and m.parent_id in body.browsed:
                feedback.choose(journal, m.id)
        journal.set_head(session_id, body.message_id)
        return views.thread(journal, session_id)

    found = await until_gone(request, lambda stop: serving.write(change, stop))
    return found.model_dump(mode="json")


@router.post("/api/messages/{message_id}/feedback")
async def rate(
    message_id: int, body: FeedbackRequest, request: Request, serving: ServingDep
) -> dict[str, Any]:
    """Thumbs up (1), down (-1) or cleared (0) on a reply, and/or a note; null keeps a field."""

    def change() -> dict[str, Any]:
        found = feedback.feedback(serving.agent.journal, message_id, body.rating, body.note)
        return found.model_dump(mode="json")

    return await until_gone(request, lambda stop: serving.write(change, stop))
