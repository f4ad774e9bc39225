"""The guard in front of every route of `hearth serve`: token, Host and Origin checked
(`Serving.refusal`) before a request reaches any route."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request

from agent.serving.errors import error
from agent.serving.serving import Serving

log = logging.getLogger(__name__)


class Guard:
    """Every request through `Serving.refusal` first. Plain ASGI, not Starlette's
    BaseHTTPMiddleware: behind that, a route never hears that its client left."""

    def __init__(self, app: Any, serving: Serving) -> None:
        self.app, self.serving = app, serving

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            refused = self.serving.refusal(request)
            if refused is not None:
                status, why = refused
                log.warning("refused %s %s: %s", request.method, request.url.path, why)
                await error(status, why, "refused")(scope, receive, send)
                return
        await self.app(scope, receive, send)
