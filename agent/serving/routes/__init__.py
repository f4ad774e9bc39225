"""The routes of `hearth serve`, one router per idea; each reaches the served data dir through
`ServingDep` (the app's `Serving`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agent.serving.serving import Serving


def serving_of(request: Request) -> Serving:
    """The `Serving` the app was made for (`make_app`)."""
    found: Serving = request.app.state.serving
    return found


ServingDep = Annotated[Serving, Depends(serving_of)]
