"""The HTTP app `hearth serve` runs: its routers (OpenAI-style chat and models; Hearth's own
turns, threads, sessions, dreams and memory), every request through the same turn pipeline
(recall, journal, write path) as the chat, behind the guard (the data dir's token, Host and
Origin) and the body limit."""

from __future__ import annotations

from fastapi import FastAPI

from agent.serving import errors
from agent.serving.guard import Guard
from agent.serving.limits import BodyLimit, Gone
from agent.serving.routes import dreams, memories, openai, sessions, threads, turns
from agent.serving.routes.openai import finish as _finish
from agent.serving.serving import SESSION_HEADER, Serving

__all__ = ["SESSION_HEADER", "Gone", "Serving", "_finish", "make_app"]

ROUTERS = (
    openai.router,
    turns.router,
    threads.router,
    sessions.router,
    dreams.router,
    memories.router,
)
"""Every route the app serves, by idea."""


def make_app(serving: Serving) -> FastAPI:
    """The app, every route behind `Serving.refusal` and `serve.max_request_bytes`."""
    app = FastAPI(title="Hearth", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.serving = serving
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Guard, serving=serving)
    app.add_middleware(BodyLimit, limit=serving.settings.max_request_bytes)
    return app
