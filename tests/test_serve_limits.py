"""What one request may ask of `hearth serve` (agent/serving/limits.py, threads.py): limits
checked before anything is journaled, a conversation of any length matched without recursion,
every error a JSON body; on the real app through Starlette's test client where no model is
needed, else on a real `hearth serve` (tests/served.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient

from agent.serving import threads
from agent.serving.api import Serving, make_app
from agent.serving.limits import Limits, Refused
from agent.serving.schemas import Said
from agent.serving.threads import _Tree, matched, place
from memory.journal.journal import Journal
from memory.journal.schemas import Role
from memory.settings import ServeSettings
from tests.conftest import HEARTH
from tests.served import Served, running_server, server_env

TOKEN = "t" * 43
MAX_TOKENS = 16
# Tokenizing new text is left unbounded on the module's server (windows), so that a request
# of 7 MB keeps it tokenizing for seconds: the stage a hang-up or SIGTERM must stop.
LONG_TOKENIZING = {
    "HEARTH_SAMPLING__MAX_TOKENS": str(MAX_TOKENS),
    "HEARTH_SERVE__MAX_REQUEST_WINDOWS": "100000",
}


def u(text: str) -> Said:
    return Said(role="user", text=text)


def a(text: str) -> Said:
    return Said(role="assistant", text=text)


def _said(n: int, tag: str = "") -> list[Said]:
    return [u(f"{tag}message {i}") if i % 2 == 0 else a(f"{tag}reply {i}") for i in range(n)]


def _wire(said: list[Said]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.text} for m in said]


# -- the tree, without a server --------------------------------------------------------------


def test_a_1001_message_conversation_is_matched_without_recursion(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    sid = journal.create_session().id
    said = _said(1001)
    for m in said:
        journal.append(sid, m.role, m.text)
    found = _Tree(journal, sid).match(None, said)
    assert [m.text for m in found] == [m.text for m in said]
    placed = place(journal, journal.session(sid), [*said, a("more"), u("and on")])
    assert (placed.action, placed.matched, placed.added) == ("turn", 1001, 1)


def test_many_identical_regenerations_are_each_looked_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every reply regenerated with the same words, and the conversation going on from each:
    a tree of 2^10 paths that all repeat the request. Each message is compared once."""
    journal = Journal(tmp_path / "journal.sqlite3")
    sid = journal.create_session().id
    level = [journal.append(sid, "user", "hi").id]
    nodes = 1
    for depth in range(10):
        role: Role = "assistant" if depth % 2 == 0 else "user"
        nxt = []
        for parent in level:
            for _ in range(2):
                nxt.append(journal.append(sid, role, f"words {depth}", parent_id=parent).id)
        nodes += len(nxt)
        level = nxt
    compared = 0
    same = threads._same

    def counting(journaled: Any, sent: Said) -> bool:
        nonlocal compared
        compared += 1
        return same(journaled, sent)

    monkeypatch.setattr(threads, "_same", counting)
    said = [u("hi"), *(a(f"words {d}") if d % 2 == 0 else u(f"words {d}") for d in range(10))]
    path = _Tree(journal, sid).match(None, said)
    assert len(path) == 11
    assert path[-1].id == max(level)  # among equal paths, the newest
    assert compared <= nodes


def test_too_many_new_messages_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    session = journal.create_session()
    limits = Limits(new_messages=100, tokens=10**9)
    with pytest.raises(Refused, match="101 messages"):
        place(journal, session, _said(101), check=limits.check_count)
    assert journal.messages(session.id) == []
    # What is resent is never counted: 98 journaled, then those again with 100 new.
    first = _said(99)
    place(journal, session, first, check=limits.check_count)
    assert matched(journal, session, first[:-1]) == 98  # (the person's last one: its turn's)
    again = [*first[:-1], *_said(99, "again "), u("x")]
    placed = place(journal, session, again, check=limits.check_count)
    assert (placed.matched, placed.added) == (98, 99)
    with pytest.raises(Refused, match="tokens"):
        Limits(new_messages=100, tokens=50).check(_said(40), len, threading.Event())


# -- the app, without a model ----------------------------------------------------------------


def _client(**settings: Any) -> TestClient:
    serving = Serving(
        cast(Any, None), cast(Any, None), TOKEN, ServeSettings(**settings), threading.Lock()
    )
    return TestClient(
        make_app(serving),
        base_url="http://127.0.0.1:8765",
        headers={"Authorization": f"Bearer {TOKEN}"},
        raise_server_exceptions=False,
    )


def test_a_body_past_the_limit_is_413_json() -> None:
    client = _client(max_request_bytes=4096)
    big = {"messages": [{"role": "user", "content": "x" * 5000}]}
    refused = client.post("/v1/chat/completions", json=big)
    assert refused.status_code == 413
    assert "serve.max_request_bytes" in refused.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}]}'

    chunked = client.post(
        "/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413 and chunked.json()["error"]["type"] == "request_too_large"


def test_an_unexpected_failure_is_the_json_error_body() -> None:
    # No agent behind the app: the models route fails as a bug would.
    failed = _client().get("/v1/models")
    assert failed.status_code == 500
    error = failed.json()["error"]
    assert error["type"] == "InternalError" and "hearth.log" in error["message"]


# -- a real server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("limits") / "home"
    with running_server(home, **LONG_TOKENIZING) as served:
        yield served


def _post(served: Served, body: dict[str, Any], timeout: float = 120.0) -> httpx.Response:
    return httpx.post(
        f"{served.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {served.token}"},
        timeout=timeout,
    )


def _count(served: Served) -> tuple[int, int]:
    sessions = served.rows("SELECT count(*) AS n FROM sessions")[0]["n"]
    return sessions, served.rows("SELECT count(*) AS n FROM messages")[0]["n"]


def test_the_10001_message_request_is_refused_before_journaling(served: Served) -> None:
    before = _count(served)
    started = time.monotonic()
    refused = _post(served, {"messages": _wire(_said(10_001))})
    assert time.monotonic() - started < 30
    assert refused.status_code == 413
    assert "serve.max_new_messages" in refused.json()["error"]["message"]
    assert _count(served) == before


def test_a_1001_message_continuation_is_answered_near_a_normal_turns_time(
    served: Served,
) -> None:
    started = time.monotonic()
    normal = _post(served, {"messages": [{"role": "user", "content": "Hello there."}]})
    normal_s = time.monotonic() - started
    assert normal.status_code == 200, normal.text
    said = _said(1001, "long ")
    first = _post(served, {"messages": _wire(said)})
    assert first.status_code == 200, first.text
    reply = first.json()["choices"][0]["message"]["content"]
    went_on = [*_wire(said), {"role": "assistant", "content": reply}]
    went_on.append({"role": "user", "content": "And what next?"})
    started = time.monotonic()
    second = _post(served, {"messages": went_on})
    took = time.monotonic() - started
    assert second.status_code == 200, second.text
    hearth = second.json()["hearth"]
    assert hearth["session_id"] == first.json()["hearth"]["session_id"]
    assert hearth["action"] == "turn"
    assert took < normal_s + 5 + 5  # ~5 s of a normal turn, 5 s more for a loaded test machine


def _hostile(served: Served, timeout: float) -> int | None:
    """Seven MB of new text (seconds of tokenizing), sent by a client that leaves after
    `timeout`; what the server answered, if it did (503 when it stopped for SIGTERM)."""
    text = "the garden was green and the weather was fine today. " * 1200
    body = {"messages": [{"role": "user", "content": f"{i} {text}"} for i in range(109)]}
    try:
        return _post(served, body, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def _logged(home: Path, line: str, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    log = home / "hearth.log"
    while time.monotonic() < deadline:
        if log.exists() and line in log.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def test_a_hang_up_during_a_long_tokenization_stops_it(served: Served) -> None:
    before = _count(served)
    assert _hostile(served, timeout=2.0) is None  # it hangs up while the server tokenizes
    # Stopped within seconds (tokenizing it all takes over fifteen on this machine).
    assert _logged(served.home, "stopped before its turn", within_s=5)
    assert _count(served) == before
    normal = _post(served, {"messages": [{"role": "user", "content": "Still there?"}]})
    assert normal.status_code == 200


def test_sigterm_during_a_long_tokenization_stops_the_server_promptly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running_server(home, **LONG_TOKENIZING) as served:
        before = _count(served)
        hostile = threading.Thread(target=_hostile, args=(served, 60.0), daemon=True)
        hostile.start()
        time.sleep(2.0)
        stopping = time.monotonic()
    # running_server sent SIGTERM and saw exit code 0 with serve.json gone.
    assert time.monotonic() - stopping < 10
    hostile.join(5)
    assert _count(served) == before


def _long_turn(served: Served) -> threading.Event:
    """A turn that holds the server for many seconds (ignore_eos: it runs to max_tokens);
    the event is set once it ends."""
    headers = {"Authorization": f"Bearer {served.token}"}
    turn = {
        "text": "Tell me a long story.",
        "new": True,
        # No notes to print back and no loop guard: nothing may end it before max_tokens.
        "memory": False,
        "sampling": {
            "max_tokens": 600,
            "ignore_eos": True,
            "temperature": 0.8,
            "stop_loops": False,
        },
    }
    done = threading.Event()

    def run() -> None:
        with httpx.stream(
            "POST", f"{served.url}/api/turn", json=turn, headers=headers, timeout=300
        ) as r:
            for _ in r.iter_lines():
                pass
        done.set()

    threading.Thread(target=run, daemon=True).start()
    time.sleep(3.0)  # the turn has begun (its model is streaming)
    return done


def _cli(served: Served, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEARTH), *args],
        env=server_env(served.home, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_memory_reads_answer_while_serve_is_busy(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    done = _long_turn(served)
    for path in ("/api/memories", "/api/status", "/api/thread", "/api/memories/search?q=story"):
        started = time.monotonic()
        read = httpx.get(f"{served.url}{path}", headers=headers, timeout=30)
        assert read.status_code == 200, read.text
        assert time.monotonic() - started < 2
    # `hearth memory list` too: through the server, without waiting for the turn or a note.
    listed = _cli(served, "memory", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "busy" not in listed.stderr
    assert isinstance(json.loads(listed.stdout), list)
    assert not done.is_set(), "the turn ended before the reads: nothing was shown"
    done.wait(300)


def test_a_write_behind_a_busy_server_waits_then_gives_up_in_one_line(served: Served) -> None:
    """remote.busy_wait_s (60 s by default) made 4 s: the note, then exit 23, nothing made."""
    before = _count(served)
    for args in (("memory", "add", "The person keeps bees."), ("say", "Are you there?")):
        done = _long_turn(served)  # one for each write: a loaded machine ends one in seconds
        gave_up = _cli(served, *args, HEARTH_REMOTE__BUSY_WAIT_S="4")
        assert gave_up.returncode == 23, gave_up.stderr
        # The note (wrapped to the terminal's width), then the one line of the error.
        note, _, error = gave_up.stderr.strip().rpartition("\n")
        assert note.startswith("waiting for the Hearth") and "stayed busy" not in note
        assert "stayed busy for 4 s" in error and "nothing was changed" in error
        assert not done.is_set(), "the turn ended before the write gave up"
        done.wait(300)
    time.sleep(1.0)
    headers = {"Authorization": f"Bearer {served.token}"}
    found = httpx.get(f"{served.url}/api/memories/search?q=bees", headers=headers, timeout=30)
    assert all("bees" not in h["memory"]["text"] for h in found.json())
    # Nothing of the writes that gave up: the say's message was never journaled.
    assert not served.rows("SELECT id FROM messages WHERE text = ?", "Are you there?")
    assert _count(served)[1] >= before[1]


def test_say_through_serve_sends_its_own_sampling(served: Served) -> None:
    """The server replies with MAX_TOKENS; this command's settings say 3, and apply."""
    said = _cli(served, "say", "--json", "Tell me about the sea.", HEARTH_SAMPLING__MAX_TOKENS="3")
    assert said.returncode == 0, said.stderr
    result = json.loads(said.stdout)
    assert 0 < result["completion_tokens"] <= 3 < MAX_TOKENS
    row = served.rows("SELECT sampling_json FROM messages WHERE id=?", result["turn_id"])[0]
    assert json.loads(row["sampling_json"])["max_tokens"] == 3


def test_a_message_past_the_window_is_refused_before_journaling(served: Served) -> None:
    before = _count(served)
    long = "The garden in spring is full of green light and small birds. " * 2400
    refused = _post(served, {"messages": [{"role": "user", "content": long}]})
    assert refused.status_code == 413
    error = refused.json()["error"]
    assert error["type"] == "TooManyTokensError" and error["exit_code"] == 26
    assert "tokens" in error["message"]
    assert _count(served) == before


def test_a_read_answers_here_when_the_server_does_not_in_2_s(served: Served) -> None:
    """The server stopped (SIGSTOP: it accepts connections, answers nothing): `memory list`
    reads the data dir itself after 2 s, with one note."""
    pid = json.loads((served.home / "serve.json").read_text())["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        listed = _cli(served, "memory", "list", "--json")
        took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)
    assert "did not answer in 2 s" in listed.stderr
    assert len(listed.stderr.strip().splitlines()) <= 2  # one note (wrapped at most once)
    assert took < 60
