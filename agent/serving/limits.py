"""What one request to `hearth serve` may ask of it: limits real clients never reach (Open
WebUI and SillyTavern resend whole chats, so the resent part never counts), checked before
anything of the request is journaled, and work that stops when its client leaves."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.serving.schemas import ErrorBody, Said
from memory.settings import ServeSettings

SLICE_CHARS = 65_536
"""A long text is tokenized this much at a time, so a request whose client left (or a server
told to stop) is dropped between two slices, not after the whole text."""


class Gone(Exception):
    """A request's work stopped or never began: its client went away, or the server is
    closing. Nothing more of it is journaled."""


class Refused(Exception):
    """A request past a limit: refused with `status` before anything of it was journaled."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """The most one request may add: new (unmatched) messages and the tokens of their text
    the server would evaluate (tokenize, and feed the model what fits)."""

    new_messages: int
    tokens: int

    @classmethod
    def of(cls, settings: ServeSettings, n_ctx: int) -> Limits:
        return cls(settings.max_new_messages, settings.max_request_windows * n_ctx)

    def check_count(self, new: Sequence[Said]) -> None:
        """Refuse more new messages than one request may bring (413)."""
        if len(new) > self.new_messages:
            raise Refused(
                413,
                f"the request brings {len(new):,} messages Hearth has not seen, more than "
                f"{self.new_messages:,} (serve.max_new_messages); the conversation it resends "
                "is not counted: send a new conversation in parts",
            )

    def check(
        self, new: Sequence[Said], count_text: Callable[[str], int], stop: threading.Event
    ) -> None:
        """Refuse too many new messages, or new text of more tokens than the limit (413);
        counting stops as soon as the limit is passed, or the client leaves (`Gone`)."""
        self.check_count(new)
        used = 0
        for m in new:
            used += tokens_of(m.text, count_text, stop, self.tokens - used)
            if used > self.tokens:
                raise Refused(
                    413,
                    f"the messages the request brings are more than {self.tokens:,} tokens "
                    "(serve.max_request_windows times model.n_ctx); the conversation it "
                    "resends is not counted: send less new text",
                )


def tokens_of(text: str, count_text: Callable[[str], int], stop: threading.Event, room: int) -> int:
    """`text`'s tokens, counted a slice at a time (stopping past `room`, or on `stop`)."""
    used = 0
    for at in range(0, len(text), SLICE_CHARS):
        if stop.is_set():
            raise Gone
        used += count_text(text[at : at + SLICE_CHARS])
        if used > room:
            break
    return used


class BodyLimit:
    """Refuse a request body past `limit` bytes (413) as it arrives: by its Content-Length
    before it is read, or once what a chunked body sent passes the limit."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Any:
            nonlocal seen, refused
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not refused:
                    # Answered here; the app reads on as if the client had gone.
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: Any) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Any) -> None:
        why = (
            f"the request is larger than {self.limit:,} bytes (serve.max_request_bytes); "
            "nothing of it was journaled"
        )
        body = json.dumps(
            {"error": ErrorBody(message=why, type="request_too_large", exit_code=2).model_dump()}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
