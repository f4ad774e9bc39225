"""How `hearth serve` answers an error: always the JSON body clients read (`ErrorBody`), with
the HTTP status and the exit code the same command gives locally; tracebacks to the log only."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from agent.serving.limits import Gone, Refused
from agent.serving.schemas import ErrorBody
from memory.errors import DataDirLockedError, HearthError, MessageTooLongError, NotFoundError

log = logging.getLogger(__name__)


def status_of(exc: HearthError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, MessageTooLongError):
        return 413
    if isinstance(exc, DataDirLockedError):
        return 409
    return 400


def error(status: int, message: str, kind: str, exit_code: int = 1) -> JSONResponse:
    body = ErrorBody(message=message, type=kind, exit_code=exit_code)
    return JSONResponse({"error": body.model_dump()}, status_code=status)


def error_body(exc: BaseException) -> dict[str, Any]:
    """The error line of a response already streaming (its status is sent)."""
    if isinstance(exc, HearthError):
        body = ErrorBody(message=str(exc), type=type(exc).__name__, exit_code=exc.exit_code)
    elif isinstance(exc, Refused):
        body = ErrorBody(message=str(exc), type="request_too_large", exit_code=2)
    elif isinstance(exc, Gone):
        body = ErrorBody(message="the request was stopped", type="closing", exit_code=23)
    else:
        log.error("a served turn failed", exc_info=exc)
        body = ErrorBody(message=f"the turn failed: {exc!r}", type="InternalError")
    return {"error": body.model_dump()}


def install(app: FastAPI) -> None:
    """Every error a route raises answered as the JSON body."""

    @app.exception_handler(HearthError)
    async def hearth_error(_: Request, exc: HearthError) -> JSONResponse:
        return error(status_of(exc), str(exc), type(exc).__name__, exc.exit_code)

    @app.exception_handler(Gone)
    async def closing(request: Request, exc: Gone) -> JSONResponse:
        log.info(
            "%s %s stopped before its turn: nothing more of it journaled",
            request.method,
            request.url.path,
        )
        why = "the request was stopped: its client left, or Hearth is closing (try again)"
        return error(503, why, "closing", 23)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        log.warning("refused a request: %s", exc)
        return error(exc.status, str(exc), "request_too_large", 2)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        # Every error is the JSON body clients read, a bug's included; the traceback goes
        # to the log only.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error(
            500,
            f"Hearth failed on this request ({type(exc).__name__}); see hearth.log",
            "InternalError",
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error(
            400, f"bad request: {where}: {first.get('msg', 'invalid')}", "invalid_request_error", 2
        )
