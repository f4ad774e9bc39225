"""`hearth serve`: one Hearth for many clients, over an OpenAI-compatible API (agent/serving/)."""

from __future__ import annotations

import contextlib
import gc
import socket
import threading
from typing import Annotated, Any

import typer

from agent.access import model_overrides
from tui.cli.options import ModelOpt
from tui.cli.output import note, warn
from tui.stop_signals import raise_on_stop_signals

HostOpt = Annotated[
    str | None,
    typer.Option("--host", help="Address to listen on (serve.host; default 127.0.0.1 only)."),
]
PortOpt = Annotated[
    int | None,
    typer.Option(
        "--port", help="Port to listen on (serve.port; 0: any free one).", min=0, max=65535
    ),
]


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is announced (a port in use is one line)."""
    from memory.errors import HearthServerError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HearthServerError(
            f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port (serve.port)"
        ) from None
    sock.listen(64)
    return sock


def _url(sock: socket.socket, host: str) -> str:
    port = int(sock.getsockname()[1])
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    return (
        f"http://[{shown}]:{port}"
        if ":" in shown and not shown.startswith("[")
        else f"http://{shown}:{port}"
    )


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, telling every request's work to stop the moment a stop signal
        comes: uvicorn itself would wait for them (up to its graceful timeout), and a turn
        still counting tokens or waiting for the one before it would not notice."""

        def __init__(self, config: uvicorn.Config, stop_all: Any) -> None:
            super().__init__(config)
            self.stop_all = stop_all

        def handle_exit(self, sig: int, frame: Any) -> None:
            self.stop_all()
            super().handle_exit(sig, frame)

    return Server


def _stopping_server(config: Any, stop_all: Any) -> Any:
    return _server_class()(config, stop_all)


def serve(host: HostOpt = None, port: PortOpt = None, model: ModelOpt = None) -> None:
    """Serve this Hearth to other programs: an OpenAI-compatible API at /v1 (chat completions,
    streaming too, and models) and the memory at /api, every request through the same turn
    pipeline as the chat. Every request needs the token in serve.token in the data dir.

    While it runs, `hearth say` and the memory commands its API has (list, search, show, add,
    forget ID) go through it; the other commands that write borrow its data dir."""
    import uvicorn

    from agent.holding import Lender, publish, serve_token, socket_path, withdraw
    from agent.serving.api import Serving, make_app
    from agent.startup import load_agent, open_home
    from memory.settings import LOOPBACK

    overrides: dict[str, Any] = model_overrides(model)
    listen = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if listen:
        overrides["serve"] = listen
    home = open_home(overrides, write_lock=True)
    lender: Lender | None = None
    stopping = threading.Event()
    try:
        settings = home.settings.serve
        sock = _listen(settings.host, settings.port)
        agent = load_agent(home)
        if agent.store is not None:
            # Loading the embedder takes seconds: now, not in the first request's reply.
            agent.store.embed(["warm up"])
        # What is loaded now lives as long as the server: frozen, the collector stops
        # re-scanning it (its full passes paused the chat up to 0.7 s: docs/benchmarks.md).
        gc.freeze()
        serving = Serving.of(home, agent, serve_token(home.paths))
        lender = Lender(socket_path(home.paths.data_dir), serving.lend).start()
        url = _url(sock, settings.host)
        publish(home.paths, url)
        note(f"serving {agent.model.name} at {url}/v1 (OpenAI-compatible) and {url}/api")
        note(f"every request needs the token in {home.paths.serve_token}; ctrl+c stops")
        if settings.host not in LOOPBACK:
            warn(
                f"listening on {settings.host}: other machines can connect. Each request still "
                "needs the token; the traffic is not encrypted (put a TLS proxy in front)"
            )
        config = uvicorn.Config(
            make_app(serving), log_config=None, access_log=False, timeout_graceful_shutdown=5
        )
        # uvicorn stops on SIGINT/SIGTERM, then raises the signal again with the handler it
        # found: ours, so the clean-up below runs (the default handler would end the process).
        raise_on_stop_signals()
        idle = threading.Thread(target=serving.tend, args=(stopping,), daemon=True)
        idle.start()
        with contextlib.suppress(KeyboardInterrupt):
            _stopping_server(config, serving.stop_all).run(sockets=[sock])
        stopping.set()
        serving.close()
        note("stopped")
    finally:
        stopping.set()
        if lender is not None:
            lender.close()
        withdraw(home.paths)
        home.close()
