"""The sessions a chat lists, opens, starts, renames, archives, leaves and deletes (the token
lets a client change and delete them)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from agent.serving import views
from agent.serving.bridge import until_gone
from agent.serving.routes import ServingDep
from agent.serving.schemas import OpenRequest, SessionChange, SessionIn
from memory.errors import NotFoundError
from memory.journal.schemas import Session

router = APIRouter()


@router.get("/api/sessions")
async def sessions(
    serving: ServingDep,
    q: str = Query("", max_length=2000),
    archived: bool = False,
) -> list[dict[str, Any]]:
    """The chat sessions, newest first, as the sessions screen lists them: those with every
    word of `q` (none: all), archived ones only when asked for. Read beside a running turn."""
    found = await run_in_threadpool(serving.agent.journal.search_sessions, q, archived)
    return [s.model_dump(mode="json") for s in found]


@router.get("/api/sessions/{session_id}/versions")
async def versions(session_id: int, serving: ServingDep) -> dict[str, list[int]]:
    """For each message of the session with other versions, the ids of all of them, oldest
    first (what the chat marks "2/3")."""
    journal = serving.agent.journal

    def read() -> dict[str, list[int]]:
        journal.session(session_id)
        return {str(k): v for k, v in journal.versions(session_id).items()}

    return await run_in_threadpool(read)


@router.get("/api/understanding")
async def understanding(serving: ServingDep) -> list[dict[str, Any]]:
    """What `hearth understanding` measured, by session (empty: it never ran)."""
    from agent.understanding import per_session

    found = await run_in_threadpool(lambda: per_session(serving.agent.journal.surprises()))
    return [s.model_dump(mode="json") for s in found]


@router.post("/api/sessions")
async def new_session(body: SessionIn, request: Request, serving: ServingDep) -> dict[str, Any]:
    """A new, empty session (the next `/api/turn` naming it goes in it)."""

    def change() -> Session:
        return serving.agent.journal.create_session(" ".join(body.title.split()))

    made = await until_gone(request, lambda stop: serving.write(change, stop))
    return made.model_dump(mode="json")


@router.patch("/api/sessions/{session_id}")
async def change_session(
    session_id: int, body: SessionChange, request: Request, serving: ServingDep
) -> dict[str, Any]:
    """Rename (an empty title: named by how it began again) and/or archive (or bring back)."""
    journal = serving.agent.journal

    def change() -> Session:
        found = journal.session(session_id)
        if body.title is not None:
            found = journal.rename_session(session_id, body.title)
        if body.archived is not None:
            found = journal.archive_session(session_id, body.archived)
        return found

    changed = await until_gone(request, lambda stop: serving.write(change, stop))
    return changed.model_dump(mode="json")


@router.delete("/api/sessions/{session_id}")
async def delete_session(session_id: int, request: Request, serving: ServingDep) -> dict[str, Any]:
    """The session and every message in it, gone for good (what was remembered from it, and
    files exported, are kept); how many messages went."""

    def change() -> int:
        return serving.agent.journal.delete_session(session_id)

    deleted = await until_gone(request, lambda stop: serving.write(change, stop))
    return {"session_id": session_id, "deleted": deleted}


@router.post("/api/sessions/{session_id}/open")
async def open_session(
    session_id: int, body: OpenRequest, request: Request, serving: ServingDep
) -> dict[str, Any]:
    """The chat switches to this session: the one it leaves loses what was said there off
    the record; returns the session's path (its own off-record messages included)."""
    agent = serving.agent

    def change() -> views.Thread:
        agent.journal.session(session_id)  # NotFoundError before anything is purged
        if body.leaving is not None and body.leaving != session_id:
            with contextlib.suppress(NotFoundError):  # gone: purged when it was left before
                agent.leave(body.leaving)
        return views.thread(agent.journal, session_id, off_record=True)

    found = await until_gone(request, lambda stop: serving.write(change, stop))
    return found.model_dump(mode="json")


@router.post("/api/sessions/{session_id}/leave")
async def leave_session(session_id: int, request: Request, serving: ServingDep) -> dict[str, Any]:
    """The chat leaves the session: what was said there off the record is deleted (after a
    reply still being written); how many messages went."""

    def change() -> int:
        serving.agent.journal.session(session_id)
        return serving.agent.leave(session_id)

    purged = await until_gone(request, lambda stop: serving.write(change, stop))
    return {"session_id": session_id, "purged": purged}
