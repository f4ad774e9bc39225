"""Who may reach `hearth serve` (agent/serving/api.py `Serving.refusal`) and its token file
(memory/coordination/serve_files.py), on the real app through Starlette's test client: the
checks run before any route, so no model is needed behind them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from agent.serving.api import Serving, make_app
from memory.coordination.serve_files import MIN_TOKEN_CHARS, serve_token
from memory.settings import Paths, ServeSettings

TOKEN = "t" * 43


def _client(token: str = TOKEN, **settings: Any) -> TestClient:
    # No data dir and no agent: a request that passes the checks reaches no route (404).
    serving = Serving(
        cast(Any, None), cast(Any, None), token, ServeSettings(**settings), threading.Lock()
    )
    return TestClient(make_app(serving), base_url="http://127.0.0.1:8765")


def _status(client: TestClient, *, token: str | None = TOKEN, **headers: str) -> int:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get("/nowhere", headers=headers).status_code


def test_every_route_needs_the_token() -> None:
    client = _client()
    assert _status(client) == 404  # through the checks, to no route
    assert _status(client, token=None) == 401
    assert _status(client, token="t" * 42) == 401
    for path in ("/v1/models", "/api/memories", "/api/thread"):
        assert client.get(path).status_code == 401
    stream = client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}], "stream": True},
    )
    assert stream.status_code == 401 and "serve.token" in stream.json()["error"]["message"]


def test_an_empty_token_matches_nothing_and_odd_bytes_are_refused() -> None:
    assert _status(_client(token=""), token="") == 401
    # Not ASCII (headers arrive as latin-1): refused, not a server error.
    odd = _client().get("/nowhere", headers={b"Authorization": b"Bearer " + b"\xe9" * 43})
    assert odd.status_code == 401


def test_hosts_and_origins() -> None:
    client = _client(allowed_hosts=["hearth.lan"])
    assert _status(client, Host="LOCALHOST.:8765") == 404
    assert _status(client, Host="[::1]:8765") == 404
    assert _status(client, Host="hearth.lan") == 404
    assert _status(client, Host="192.168.1.20:8765") == 404  # an address names no web page
    assert _status(client, Host="evil.example:8765") == 403  # a name rebound to 127.0.0.1
    assert _status(client, Origin="http://evil.example") == 403
    allowed = _client(allowed_origins=["https://chat.example"])
    assert _status(allowed, Origin="https://chat.example") == 404


def test_a_token_file_cut_short_is_made_again(tmp_path: Path) -> None:
    paths = Paths(config_file=tmp_path / "c.toml", data_dir=tmp_path, models_dir=tmp_path)
    token = serve_token(paths)
    assert len(token) >= MIN_TOKEN_CHARS
    assert serve_token(paths) == token
    assert paths.serve_token.stat().st_mode & 0o777 == 0o600
    paths.serve_token.write_text("\n")
    paths.serve_token.chmod(0o644)
    again = serve_token(paths)
    assert again != token and len(again) >= MIN_TOKEN_CHARS
    assert paths.serve_token.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("role", ["assistant"])
def test_a_request_that_ends_with_no_message_of_the_persons_is_a_bad_request(role: str) -> None:
    said = [{"role": "user", "content": "hi"}, {"role": role, "content": "hello"}]
    done = _client().post(
        "/v1/chat/completions",
        json={"messages": said},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert done.status_code == 400 and done.json()["error"]["exit_code"] == 2
