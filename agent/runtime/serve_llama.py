"""`python -m agent.runtime.serve_llama`: llama-cpp-python's OpenAI server on Hearth's Llama."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from agent.runtime.factory import make_llama
from agent.runtime.gguf import read_info
from memory.settings import ModelSettings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from llama_cpp import Llama

HOST = "127.0.0.1"
"""The only address it binds: the server has no TLS, and its key (if any) is a plain header."""


def _chat_handler(path: Path, settings: ModelSettings) -> dict[str, Any]:
    """model.chat_template, where set, as the server's template (else the GGUF's own)."""
    if settings.chat_template is None:
        return {}
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    info = read_info(path)
    formatter = Jinja2ChatFormatter(
        template=settings.chat_template,
        eos_token=info.eos_token or "",
        bos_token=info.bos_token or "",
    )
    return {"chat_handler": formatter.to_chat_handler()}


def make_app(
    path: Path, settings: ModelSettings, *, alias: str | None = None, api_key: str | None = None
) -> FastAPI:
    """llama-cpp-python's app (`llama_cpp.server.app.create_app`) serving a `Llama` made by
    `make_llama`, so Hearth's CPU setting (model.extra_buffer_types) and threads apply.

    create_app builds its model proxy by the module's name `LlamaProxy`; for that one call the
    name is a subclass whose loader hands back the model already made (0.3.36)."""
    from llama_cpp.server import app as server
    from llama_cpp.server.model import LlamaProxy
    from llama_cpp.server.settings import ModelSettings as ServedModel
    from llama_cpp.server.settings import ServerSettings

    llm = make_llama(path, settings, **_chat_handler(path, settings))

    class Prebuilt(LlamaProxy):  # type: ignore[misc]
        @staticmethod
        def load_llama_from_model_settings(_: ServedModel) -> Llama:
            return llm

    served = ServedModel(model=str(path), model_alias=alias or path.stem, n_ctx=settings.n_ctx)
    names = vars(server)
    original, names["LlamaProxy"] = names["LlamaProxy"], Prebuilt
    try:
        app: FastAPI = server.create_app(
            server_settings=ServerSettings(host=HOST, api_key=api_key), model_settings=[served]
        )
    finally:
        names["LlamaProxy"] = original
    return app


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def launch(
    port: int,
    log: IO[bytes],
    *,
    args: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """This launcher as a process of its own (`args`: more of its flags), its output to `log`."""
    command = [sys.executable, "-m", "agent.runtime.serve_llama", "--port", str(port)]
    return subprocess.Popen(
        [*command, *(args or [])],
        cwd=cwd or Path(__file__).parents[2],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def wait_ready(
    base_url: str, process: subprocess.Popen[bytes], timeout_s: float, key: str | None = None
) -> None:
    """Until the server answers /v1/models (RuntimeError if it exits or takes too long)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the model server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/models", headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the model server did not answer in {timeout_s:g} s")
        time.sleep(0.25)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a launched server (SIGTERM, then SIGKILL after 20 s)."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(argv: list[str] | None = None) -> None:
    """Serve a GGUF on 127.0.0.1:PORT until stopped; the model settings are Hearth's
    (config.toml, HEARTH_MODEL__*), the flags override them."""
    import uvicorn

    from agent.runtime.model_files import resolve_model
    from memory.errors import HearthError
    from memory.settings import load_settings, read_key_file, resolve_paths

    parser = argparse.ArgumentParser(prog="python -m agent.runtime.serve_llama")
    parser.add_argument("--model", type=Path, help="a GGUF (default: the one Hearth would load)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--n-ctx", type=int, help="the context window (default: model.n_ctx)")
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: model.n_threads)")
    parser.add_argument("--alias", help="the model's name on /v1/models (default: file stem)")
    parser.add_argument("--api-key-file", type=Path, help="require this key (its first line)")
    args = parser.parse_args(argv)
    try:
        paths = resolve_paths()
        settings = load_settings(paths).model
        if args.n_ctx is not None:
            settings = settings.model_copy(update={"n_ctx": args.n_ctx})
        if args.threads is not None:
            settings = settings.model_copy(update={"n_threads": args.threads})
        path = resolve_model(args.model or settings.path, paths.models_dir).path
        key = read_key_file(args.api_key_file) if args.api_key_file else None
    except (HearthError, ValueError) as exc:
        print(f"serve_llama: {exc}", file=sys.stderr)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    app = make_app(path, settings, alias=args.alias, api_key=key)
    uvicorn.run(app, host=HOST, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
