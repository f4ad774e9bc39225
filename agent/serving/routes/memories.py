"""The memory a chat reads and changes: list, search, one memory, those a reply was shown
and left behind (the memory panel's), and the person's word on one: add, edit, pin, accept,
reject, forget (the token lets a client change and delete memories). Reads go on beside a
running turn; changes wait for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from agent.serving.bridge import until_gone
from agent.serving.errors import error
from agent.serving.routes import ServingDep
from agent.serving.schemas import MemoryChange, MemoryIn
from memory.errors import ConfigError
from memory.graph.flags import SECRET

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

router = APIRouter()


def _check_kinds(kinds: list[str] | None) -> None:
    from memory.graph.nodes import KINDS

    for k in kinds or []:
        if k not in KINDS:
            raise ConfigError(f"unknown kind {k!r}; one of {', '.join(KINDS)}")


def _secret_refused(text: str, allowed: bool) -> Any:
    """The refusal of a text holding a secret not marked as one (None: none)."""
    from memory.secrets import secret_kinds

    found = secret_kinds(text)
    if found and not allowed:
        kinds = ", ".join(found)
        why = f"not remembered: the text holds a secret ({kinds}); send secret=true to keep it"
        return error(400, why, "secret", 2)
    return None


@router.get("/api/memories")
async def memories(
    serving: ServingDep,
    kind: list[str] | None = Query(None),
    all: bool = False,
    limit: int | None = Query(None, ge=1),
    pinned: bool = False,
) -> list[dict[str, Any]]:
    """The memories (of these kinds; with `all`, past ones too); with `pinned`, only the
    pinned ones the prompt always shows (what the chat's welcome lists)."""
    _check_kinds(kind)

    def read(store: MemoryStore) -> list[dict[str, Any]]:
        if pinned:
            found = store.pinned()[:limit]
        else:
            found = store.list(kinds=kind or None, valid_only=not all, limit=limit)  # type: ignore[arg-type]
        return [m.model_dump(mode="json") for m in found]

    return await run_in_threadpool(serving.read, read)


@router.get("/api/memories/search")
async def search(
    serving: ServingDep,
    q: str,
    k: int | None = Query(None, ge=1, le=1000),
    kind: list[str] | None = Query(None),
    all: bool = False,
) -> list[dict[str, Any]]:
    """Hits best first, each a `Hit`: the memory and the signals it ranked by."""
    _check_kinds(kind)

    def read(store: MemoryStore) -> list[dict[str, Any]]:
        hits = store.search(
            q,
            k,
            kinds=kind or None,  # type: ignore[arg-type]
            valid_only=not all,
            mentions=store.mentions(q),
        )
        return [h.model_dump(mode="json") for h in hits]

    return await run_in_threadpool(serving.read, read)


@router.get("/api/memories/{memory_id}")
async def show(memory_id: str, serving: ServingDep) -> dict[str, Any]:
    """The memory with its sources, edges and use, as `hearth memory show --json`."""
    from agent.memory_use import details

    return await run_in_threadpool(
        serving.read, lambda store: details(store, serving.agent.journal, memory_id)
    )


@router.get("/api/memories/{memory_id}/history")
async def history(memory_id: str, serving: ServingDep) -> list[dict[str, Any]]:
    """Every change to the memory, oldest first (a forgotten one keeps its tombstone)."""

    def read(store: MemoryStore) -> list[dict[str, Any]]:
        return [e.model_dump(mode="json") for e in store.history(memory_id)]

    return await run_in_threadpool(serving.read, read)


@router.get("/api/memories/{memory_id}/links")
async def links(memory_id: str, serving: ServingDep) -> list[dict[str, Any]]:
    """The memory's edges, each with the memory at its other end (null: forgotten)."""
    from memory.errors import NotFoundError

    def read(store: MemoryStore) -> list[dict[str, Any]]:
        found = []
        for edge in store.edges(memory_id):
            outgoing = edge.src == memory_id
            try:
                other: Any = store.get(edge.dst if outgoing else edge.src).model_dump(mode="json")
            except NotFoundError:
                other = None
            found.append({"type": edge.type, "outgoing": outgoing, "other": other})
        return found

    return await run_in_threadpool(serving.read, read)


@router.get("/api/messages/{reply_id}/memories")
async def recalled(reply_id: int, serving: ServingDep) -> dict[str, Any]:
    """The memory panel's rows for a reply: the memories recalled for it, each with why, and
    those its turn left behind, each as the store has it now (None: forgotten since)."""
    from agent.reply_memories import reply_memories

    found = await run_in_threadpool(
        serving.read, lambda store: reply_memories(serving.agent.journal, store, reply_id)
    )
    return found.model_dump(mode="json")


@router.post("/api/memories")
async def add(body: MemoryIn, request: Request, serving: ServingDep) -> Any:
    from memory.secrets import has_secret

    refused = _secret_refused(body.text, body.secret)
    if refused is not None:
        return refused

    def write(store: MemoryStore) -> dict[str, Any]:
        memory = store.add(
            body.text,
            kind=body.kind,
            subject=body.subject,
            importance=body.importance,
            pinned=body.pin,
            flags=[SECRET] if body.secret and has_secret(body.text) else [],
        )
        return memory.model_dump(mode="json")

    return await until_gone(request, lambda stop: serving.memory(write, stop))


@router.patch("/api/memories/{memory_id}")
async def change(memory_id: str, body: MemoryChange, request: Request, serving: ServingDep) -> Any:
    """The person's word on a memory, as the memory panel gives it: new words (a secret
    refused unless `secret`), pinned or not, accepted as right. Returns the memory now."""
    if body.text is not None and (refused := _secret_refused(body.text, body.secret)):
        return refused

    def write(store: MemoryStore) -> dict[str, Any]:
        memory = store.get(memory_id)
        if body.text is not None and body.text != memory.text:
            memory = store.update_text(memory_id, body.text)
        if body.pinned is not None and body.pinned != memory.pinned:
            memory = store.pin(memory_id) if body.pinned else store.unpin(memory_id)
        if body.accept:
            memory = store.accept(memory_id)
        return memory.model_dump(mode="json")

    return await until_gone(request, lambda stop: serving.memory(write, stop))


@router.post("/api/memories/{memory_id}/reject")
async def reject(memory_id: str, request: Request, serving: ServingDep) -> dict[str, Any]:
    """The memory is wrong: forgotten, and the same words are never learned again."""
    from agent.recall import shown_line_pattern

    def write(store: MemoryStore) -> dict[str, Any]:
        report = store.reject(memory_id, serving.agent.journal, shown_as=shown_line_pattern)
        return report.model_dump(mode="json")

    return await until_gone(request, lambda stop: serving.memory(write, stop))


@router.delete("/api/memories/{memory_id}")
async def forget(memory_id: str, request: Request, serving: ServingDep) -> dict[str, Any]:
    from agent.recall import shown_line_pattern

    def write(store: MemoryStore) -> dict[str, Any]:
        report = store.forget(memory_id, serving.agent.journal, shown_as=shown_line_pattern)
        return report.model_dump(mode="json")

    return await until_gone(request, lambda stop: serving.memory(write, stop))
