"""The openai backend against a real server: llama-cpp-python's, started by Hearth's launcher
(agent/runtime/serve_llama.py) on 127.0.0.1 with the embedded model and an API key."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.runtime.backend import LlamaBackend
from agent.runtime.openai_backend import OpenAIBackend, server_identity
from agent.runtime.serve_llama import free_port, launch, stop, wait_ready
from agent.startup import Home, load_agent
from benchmarks.server_first_token import run_server_bench
from benchmarks.turn_cost import SCRIPT
from memory.journal.journal import Journal
from memory.journal.schemas import ChatMessage
from memory.settings import ModelSettings, SamplingSettings
from tests.conftest import RunHearth

KEY = "hk-test-7f3a9c1e5b2d4086"
N_CTX = 2048


class Server:
    """A running launcher: where it listens and the key it wants."""

    def __init__(self, port: int, key_file: Path) -> None:
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.key_file = key_file

    def env(self, **extra: str) -> dict[str, str]:
        """`hearth` settings that talk to this server, the key from the environment."""
        return {
            "HEARTH_MODEL__BACKEND": "openai",
            "HEARTH_MODEL__BASE_URL": self.base_url,
            "HEARTH_MODEL__API_KEY": KEY,
            "HEARTH_MODEL__N_CTX": str(N_CTX),
            **extra,
        }

    def settings(self, **extra: object) -> ModelSettings:
        return ModelSettings.model_validate(
            {"backend": "openai", "base_url": self.base_url, "api_key": KEY, "n_ctx": N_CTX} | extra
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The launcher as a real process, one for the module (loading the model takes seconds)."""
    tmp = tmp_path_factory.mktemp("server")
    key_file = tmp / "key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    # Its own empty home: the developer's config.toml must not change the model served.
    env["HEARTH_HOME"] = str(tmp / "home")
    flags = ["--n-ctx", str(N_CTX), "--threads", "1", "--api-key-file", str(key_file)]
    running = Server(port, key_file)
    with (tmp / "server.log").open("wb") as log:
        proc = launch(port, log, args=flags, env=env)
        try:
            try:
                wait_ready(running.base_url, proc, 120, KEY)
            except RuntimeError as exc:
                pytest.fail(f"{exc}: {(tmp / 'server.log').read_text()}")
            yield running
        finally:
            stop(proc)


@pytest.fixture
def served_home(server: Server, make_home: Callable[..., Home]) -> Home:
    """This test's data dir for writing, its settings pointed at the server, memory off."""
    return make_home(
        model=server.settings().model_dump(),
        sampling={"max_tokens": 48, "seed": 3},
    )


def _say(run_hearth: RunHearth, server: Server, *args: str) -> dict[str, object]:
    done = run_hearth("say", *args, "--json", env=server.env())
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_a_turn_and_a_regenerate_through_the_server(
    server: Server, run_hearth: RunHearth, hearth_home: Path
) -> None:
    # No name in it: a name learned from the message would (rightly) name the person in the
    # regeneration's system prompt, and this test compares the two prompts.
    data = _say(run_hearth, server, "Hello! I live in Lisbon by the river.")
    assert data["status"] == "complete" and str(data["reply"]).strip()
    assert isinstance(data["ttft_ms"], float) and int(data["completion_tokens"]) > 0  # type: ignore[call-overload]
    turn = int(data["turn_id"])  # type: ignore[call-overload]

    again = run_hearth("regenerate", str(turn), "--json", env=server.env())
    assert again.returncode == 0, again.stderr
    regenerated = json.loads(again.stdout)
    new_turn = regenerated["turn_id"]
    assert regenerated["siblings"] == [turn, new_turn] and turn != new_turn

    journal = Journal(hearth_home / "journal.sqlite3")
    try:
        reply = journal.message(regenerated["turn_id"])
        first = journal.message(turn)
    finally:
        journal.close()
    # Attributed to the server's model: its name, the server's URL, an id of the two.
    assert reply.model is not None and reply.model == first.model
    assert reply.model.path == server.base_url and reply.model.name == data["model"]
    assert reply.model.sha256 == server_identity(server.base_url, reply.model.name)
    assert reply.parent_id == first.parent_id and reply.text == regenerated["reply"]
    # The same prompt both times: the messages Hearth built, sent as messages.
    assert reply.prompt == first.prompt and reply.prompt is not None
    assert [m.role for m in reply.prompt] == ["system", "user"]


def test_a_reply_streams_in_pieces_and_a_stop_interrupts_it(served_home: Home) -> None:
    agent = load_agent(served_home, memory=False)
    session = agent.session(new=True)
    pieces: list[str] = []
    result = agent.run_turn(session.id, "Tell me about cats.", on_piece=pieces.append)
    assert len(pieces) > 3 and "".join(pieces).strip()
    assert result.status == "complete" and result.ttft_ms is not None

    stop = threading.Event()
    seen: list[str] = []

    def take(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 3:
            stop.set()

    stopped = agent.run_turn(session.id, "Tell me a long story.", on_piece=take, stop=stop)
    # Pieces the echo guard still held when the stop came are shown after it (they are part of
    # what was kept), so the person may see a piece or two past the third.
    assert stopped.status == "interrupted" and 3 <= len(seen) <= 6, seen
    kept = served_home.journal.message(stopped.turn_id)
    assert kept.status == "interrupted" and kept.text == "".join(seen)
    assert kept.usage.finish_reason == "interrupted"
    # The server takes the next request at once: the closed stream freed it.
    after = agent.run_turn(session.id, "Thanks.", on_piece=lambda _: None)
    assert after.status == "complete"


def test_token_counts_agree_with_the_local_tokenizer(server: Server, backend: LlamaBackend) -> None:
    remote = OpenAIBackend(server.settings())
    try:
        assert remote.tokenizer == "llama-cpp-python"
        texts = ["Hello there!", "naïve café — 東京 🌸", "def f(x):\n    return x * 2\n", ""]
        for text in texts:
            assert remote.count_text(text) == backend.count_text(text), text
        messages = [
            ChatMessage(role="system", content="You are Hearth."),
            ChatMessage(role="user", content="My sister Ana visits on Saturday."),
            ChatMessage(role="assistant", content="How lovely! What will you cook?"),
            ChatMessage(role="user", content="Something spicy, but not too spicy."),
        ]
        exact = backend.count_tokens(messages)
        # Never under (the window must not overflow), and by no more than the margin.
        assert exact <= remote.count_tokens(messages) <= exact + 8 * len(messages) + 8
    finally:
        remote.close()


def test_the_estimate_counts_at_least_the_real_tokens(
    server: Server, backend: LlamaBackend
) -> None:
    remote = OpenAIBackend(server.settings(), tokenizer="estimate")
    try:
        texts = [
            "Hello there, how are you today? I was thinking about the weekend.",
            "東京タワーに行きました",
            "naïve café — 🌸🌸",
            "x = [1, 2, 3]; print(sum(x) / 3.0)",
            "call me on 415-555-0100 or at sam@example.org",
        ]
        for text in texts:
            real = backend.count_text(text)
            assert real <= remote.count_text(text), text
    finally:
        remote.close()


def test_the_key_is_sent_and_never_kept(
    server: Server, run_hearth: RunHearth, hearth_home: Path
) -> None:
    # From a file as well as the environment; without it, or with a wrong one: exit 20.
    by_file = server.env(HEARTH_MODEL__API_KEY_FILE=str(server.key_file))
    del by_file["HEARTH_MODEL__API_KEY"]
    assert run_hearth("say", "Hi, I'm Sam.", env=by_file).returncode == 0
    wrong = run_hearth("say", "Hi", env=server.env(HEARTH_MODEL__API_KEY="nope"))
    assert wrong.returncode == 20
    assert wrong.stderr.strip().count("\n") == 0 and "refused the API key (401)" in wrong.stderr
    assert server.base_url in wrong.stderr and "nope" not in wrong.stderr

    shown = run_hearth("config", "show", env=server.env())
    as_json = run_hearth("config", "show", "--json", env=server.env())
    assert shown.returncode == 0 and as_json.returncode == 0
    assert KEY not in shown.stdout + as_json.stdout
    assert json.loads(as_json.stdout)["model"]["api_key"] == "**********"
    doctor = run_hearth("doctor", "--json", env=server.env())
    model = next(c for c in json.loads(doctor.stdout) if c["name"] == "model")
    assert model["ok"] and "openai backend" in model["detail"] and KEY not in doctor.stdout
    for path in hearth_home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_what_needs_a_local_model_says_so(server: Server, run_hearth: RunHearth) -> None:
    scored = run_hearth("score", env=server.env())
    assert scored.returncode == 3
    assert "hearth score" in scored.stderr and "the openai backend cannot" in scored.stderr
    read = run_hearth("understanding", env=server.env())
    assert read.returncode == 3 and "hearth understanding" in read.stderr
    model = run_hearth("say", "Hi", env=server.env(HEARTH_MEMORY__EXTRACTOR="model"))
    assert model.returncode == 3
    assert 'memory.extractor = "model"' in model.stderr and "openai backend" in model.stderr
    info = run_hearth("models", "info", "--json", env=server.env())
    assert info.returncode == 0, info.stderr
    extractor = json.loads(info.stdout)["memory_extractor"]
    assert extractor["use"] == "rules" and 'model.backend = "openai"' in extractor["why"]


def test_bad_settings_and_a_missing_server_are_one_line(
    run_hearth: RunHearth, tmp_path: Path
) -> None:
    no_url = run_hearth("say", "Hi", env={"HEARTH_MODEL__BACKEND": "openai"})
    assert no_url.returncode == 3 and "needs model.base_url" in no_url.stderr
    missing = tmp_path / "no-such-key"
    unreadable = run_hearth(
        "config",
        "show",
        env={"HEARTH_MODEL__API_KEY_FILE": str(missing)},
    )
    assert unreadable.returncode == 3 and f"cannot read the API key file {missing}" in (
        unreadable.stderr
    )
    down = run_hearth(
        "say",
        "Hi",
        env={
            "HEARTH_MODEL__BACKEND": "openai",
            "HEARTH_MODEL__BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        },
    )
    assert down.returncode == 20 and "connection refused" in down.stderr
    assert "Traceback" not in down.stderr and down.stderr.strip().count("\n") == 0
    # A server that takes the connection and never answers: the timeout, in one line.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        hung = run_hearth(
            "say",
            "Hi",
            env={
                "HEARTH_MODEL__BACKEND": "openai",
                "HEARTH_MODEL__BASE_URL": url,
                "HEARTH_MODEL__TIMEOUT_S": "0.5",
            },
        )
    assert hung.returncode == 20 and f"{url} did not answer within 0.5 s" in hung.stderr
    assert hung.stderr.strip().count("\n") == 0


def test_sampling_settings_map_to_the_request(server: Server) -> None:
    remote = OpenAIBackend(server.settings(server_model="any-name"))
    try:
        body = remote.request(
            [ChatMessage(role="user", content="hi")],
            SamplingSettings(temperature=0.3, top_p=0.8, top_k=7, seed=11, ignore_eos=True),
            max_tokens=5,
        )
    finally:
        remote.close()
    assert remote.name == "any-name"
    assert body["model"] == "any-name" and body["messages"] == [{"role": "user", "content": "hi"}]
    assert (body["temperature"], body["top_p"], body["top_k"], body["seed"]) == (0.3, 0.8, 7, 11)
    assert body["max_tokens"] == 5 and body["stream"] is True and body["ignore_eos"] is True


def test_a_model_file_named_on_the_command_line_is_loaded_here(
    server: Server, run_hearth: RunHearth, embedded_gguf: Path, hearth_home: Path
) -> None:
    done = run_hearth("say", "Hi", "--json", "--model", str(embedded_gguf), env=server.env())
    assert done.returncode == 0, done.stderr
    journal = Journal(hearth_home / "journal.sqlite3")
    try:
        reply = journal.message(json.loads(done.stdout)["turn_id"])
    finally:
        journal.close()
    assert reply.model is not None and reply.model.path == str(embedded_gguf)


def test_the_server_bench_times_both_arms(server: Server, hearth_home: Path) -> None:
    result = run_server_bench(
        server.base_url,
        model=None,
        n_ctx=N_CTX,
        threads=1,
        reply_tokens=8,
        progress=lambda _: None,
        api_key=SecretStr(KEY),
        script=SCRIPT[:2],
    )
    assert not result.launched and result.tokenizer == "llama-cpp-python"
    assert [t.turn for t in result.turns] == [1, 2]
    for turn in result.turns:
        # Hearth's wait holds its request's; the raw arm sent the same messages.
        assert turn.hearth_ms >= turn.request_ms > 0 and turn.raw_ms > 0
    assert result.turns[1].prompt_tokens > result.turns[0].prompt_tokens
