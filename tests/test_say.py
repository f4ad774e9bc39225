"""`hearth say` runs a real turn on the embedded model; `hearth logs` reads what it journaled."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from memory.errors import MessageTooLongError
from memory.journal.journal import Journal
from tests.conftest import HEARTH, RunHearth


def _say(run_hearth: RunHearth, *args: str) -> dict[str, object]:
    result = run_hearth("say", *args, "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_say_replies_and_journals_the_turn(run_hearth: RunHearth, hearth_home: Path) -> None:
    data = _say(run_hearth, "Hello! My name is Sam.")
    assert isinstance(data["reply"], str) and data["reply"].strip()
    for key in ("session_id", "turn_id", "user_turn_id", "prompt_tokens", "completion_tokens"):
        assert isinstance(data[key], int), key
    assert data["status"] == "complete"
    assert isinstance(data["ttft_ms"], float) and isinstance(data["total_ms"], float)

    journal = Journal(hearth_home / "journal.sqlite3")
    reply = journal.message(int(data["turn_id"]))  # type: ignore[call-overload]
    user = journal.message(int(data["user_turn_id"]))  # type: ignore[call-overload]
    assert user.text == "Hello! My name is Sam." and user.role == "user"
    assert reply.parent_id == user.id and reply.status == "complete"
    assert reply.text == data["reply"]
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.model is not None and len(reply.model.sha256) == 64
    assert reply.prompt is not None and reply.prompt[-1].content == "Hello! My name is Sam."
    assert reply.sampling is not None and "temperature" in reply.sampling


def test_say_continues_the_latest_session_unless_new(run_hearth: RunHearth) -> None:
    first = _say(run_hearth, "I like green tea.")
    second = _say(run_hearth, "What do I like?")
    assert second["session_id"] == first["session_id"]
    third = _say(run_hearth, "Hi again", "--new")
    assert third["session_id"] != first["session_id"]
    # The second turn's prompt held the first exchange: the model saw the history.
    shown = run_hearth("logs", "show", str(second["turn_id"]), "--prompt", "--json")
    messages = json.loads(shown.stdout)["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "I like green tea."


def test_logs_list_show_path_status(run_hearth: RunHearth, hearth_home: Path) -> None:
    data = _say(run_hearth, "Good morning")
    listed = json.loads(run_hearth("logs", "list", "--json", "-n", "5").stdout)
    assert [m["id"] for m in listed] == [data["turn_id"], data["user_turn_id"]]  # newest first
    one = json.loads(run_hearth("logs", "show", str(data["turn_id"]), "--json").stdout)
    assert one["text"] == data["reply"]
    assert run_hearth("logs", "path").stdout.strip() == str(hearth_home / "journal.sqlite3")
    status = json.loads(run_hearth("logs", "status", "--json").stdout)
    assert status["messages"] == 2 and status["sessions"] == 1 and status["incomplete"] == 0
    human = run_hearth("logs", "list")
    assert "Good morning" in human.stdout


def test_data_dir_is_private(run_hearth: RunHearth, hearth_home: Path) -> None:
    _say(run_hearth, "A private thought")
    assert stat.S_IMODE(hearth_home.stat().st_mode) == 0o700
    files = [p for p in hearth_home.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_models_and_config_commands(run_hearth: RunHearth, embedded_gguf: Path) -> None:
    listed = json.loads(run_hearth("models", "list", "--json").stdout)
    assert any(m["source"] == "embedded" for m in listed)
    info = json.loads(run_hearth("models", "info", str(embedded_gguf), "--json").stdout)
    assert info["architecture"] == "llama"
    assert info["has_chat_template"] is True
    assert info["quantization"] == "Q4_1"
    assert info["context_length"] == 8192
    shown = json.loads(
        run_hearth("config", "show", "--json", env={"HEARTH_MODEL__N_CTX": "2048"}).stdout
    )
    assert shown["model"]["n_ctx"] == 2048
    assert "config.toml" in run_hearth("config", "path").stdout


def test_models_dir_gguf_is_preferred_over_the_default(
    run_hearth: RunHearth, hearth_home: Path, gguf_without_template: Path
) -> None:
    models = hearth_home / "models"
    models.mkdir(parents=True)
    (models / "mine.gguf").symlink_to(gguf_without_template)
    result = run_hearth("say", "Hello", "--json")
    assert result.returncode == 0, result.stderr
    # That file has no chat template: Hearth says so once and falls back to ChatML.
    assert "no chat template" in result.stderr
    reply = json.loads(result.stdout)
    shown = json.loads(run_hearth("logs", "show", str(reply["turn_id"]), "--json").stdout)
    assert shown["model"]["path"].endswith("no-template.gguf")


def _say_stdin(
    hearth_home: Path, stdin: bytes, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(HEARTH), "say", *args],
        input=stdin,
        capture_output=True,
        env={
            **os.environ,
            "HEARTH_HOME": str(hearth_home),
            "HEARTH_SAMPLING__MAX_TOKENS": "4",
            **(env or {}),
        },
        timeout=180,
    )


def test_say_reads_a_long_message_from_stdin(hearth_home: Path) -> None:
    # Quotes, a dollar sign, blank lines and 2,000 characters: awkward as an argument.
    message = 'Here is my long note: "don\'t" $HOME\n\n' + "All good here. " * 140
    done = _say_stdin(hearth_home, (message + "\n").encode(), "-", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # No argument at all reads a piped stdin too.
    again = _say_stdin(hearth_home, b"and one more", "--json")
    assert again.returncode == 0, again.stderr
    journal = Journal(hearth_home / "journal.sqlite3")
    assert journal.message(data["user_turn_id"]).text == message  # the shell's newline dropped
    assert journal.message(json.loads(again.stdout)["user_turn_id"]).text == "and one more"


def test_say_from_stdin_obeys_the_length_limit_and_refuses_nothing(hearth_home: Path) -> None:
    limit = {"HEARTH_CHAT__MAX_MESSAGE_CHARS": "100"}
    long = _say_stdin(hearth_home, b"x" * 101, "-", env=limit)
    assert long.returncode == MessageTooLongError.exit_code, long.stderr
    assert b"chat.max_message_chars" in long.stderr and len(long.stderr.splitlines()) == 1
    assert _say_stdin(hearth_home, b" \n", "-").returncode == 2  # empty: a usage error
    assert _say_stdin(hearth_home, b"\xff\xfe hi", "-").returncode == 2
    journal = hearth_home / "journal.sqlite3"
    assert not journal.exists() or not Journal(journal).sessions()


# What `say` must never import: the UI, the servers, the data and plotting stacks. Torch and
# sentence-transformers come with the embedder, which a turn loads only to recall or remember.
_NOT_FOR_SAY = (
    "textual",
    "fastapi",
    "uvicorn",
    "presidio_analyzer",
    "matplotlib",
    "torch",
    "sentence_transformers",
    "datasets",
    "pyarrow",
)
_LIST_MODULES = """
import atexit, sys
atexit.register(lambda: print(*sorted({m.split(".")[0] for m in sys.modules}), file=sys.stderr))
from tui.cli.main import main
main()
"""


def test_a_first_say_imports_nothing_it_does_not_use(hearth_home: Path) -> None:
    # A greeting on a fresh data dir: nothing to recall, nothing remembered.
    done = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES, "say", "hello"],
        capture_output=True,
        text=True,
        env={**os.environ, "HEARTH_HOME": str(hearth_home), "HEARTH_SAMPLING__MAX_TOKENS": "4"},
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    imported = set(done.stderr.splitlines()[-1].split())
    assert "llama_cpp" in imported  # the list is real: the turn ran
    assert imported.isdisjoint(_NOT_FOR_SAY), sorted(imported & set(_NOT_FOR_SAY))


def test_the_address_a_killed_server_left_is_passed_over(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    from agent.runtime.serve_llama import free_port

    # kill -9 leaves serve.json behind, and its pid may since be a live process's (here this
    # one's): nothing listens at its URL, so `say` runs here as if no server had been.
    hearth_home.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    (hearth_home / "serve.json").write_text(json.dumps({"url": url, "pid": os.getpid()}))
    (hearth_home / "serve.token").write_text("a-token\n")
    done = run_hearth("say", "--json", "hello")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "complete"
