"""The dreams a chat's dreams screen shows (made-up turns from `hearth dream`), and its review
of one: accepted, rejected, or its reply edited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from agent.dream.review import Dream, dream, dreams, review
from agent.serving.bridge import until_gone
from agent.serving.routes import ServingDep
from agent.serving.schemas import DreamReview
from memory.journal.schemas import Review

router = APIRouter()


@router.get("/api/dreams")
async def list_dreams(
    serving: ServingDep, state: Review | None = Query(None, alias="review")
) -> list[dict[str, Any]]:
    """Every dream, oldest first (only those in one review state when asked)."""
    found = await run_in_threadpool(dreams, serving.agent.journal, state)
    return [d.model_dump(mode="json") for d in found]


@router.get("/api/dreams/{dream_id}")
async def one_dream(dream_id: int, serving: ServingDep) -> dict[str, Any]:
    found = await run_in_threadpool(dream, serving.agent.journal, dream_id)
    return found.model_dump(mode="json")


@router.post("/api/dreams/{dream_id}/review")
async def review_dream(
    dream_id: int, body: DreamReview, request: Request, serving: ServingDep
) -> dict[str, Any]:
    """Accept, reject or edit one dream (an edit keeps the model's reply beside the person's);
    returns the dream as it is now."""

    def change() -> Dream:
        return review(serving.agent.journal, dream_id, body.action, body.text)

    done = await until_gone(request, lambda stop: serving.write(change, stop))
    return done.model_dump(mode="json")
