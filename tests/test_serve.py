"""`hearth serve` for real: the `openai` client against a served Hearth (the embedded model), the
conversation it resends mapped onto the journal's tree, the token, Host and Origin checks, and
the local commands going through it."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import CLI_MAX_TOKENS, HEARTH
from tests.served import Served, server_env

MAX_TOKENS = 24


def _env(home: Path) -> dict[str, str]:
    return server_env(home, HEARTH_SAMPLING__MAX_TOKENS=str(MAX_TOKENS))


@pytest.fixture
def served(shared_server: Served) -> Served:
    """The worker's server (tests/conftest.py; loading the model takes seconds): 24-token
    replies, as MAX_TOKENS; each test here talks in sessions of its own."""
    assert MAX_TOKENS == CLI_MAX_TOKENS
    return shared_server


def _hearth(completion: Any) -> dict[str, Any]:
    """What Hearth adds to a completion: where the turn went in the journal."""
    return dict((completion.model_extra or {})["hearth"])


def _text(stream: Any) -> str:
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def test_streamed_reply_is_journaled_once(served: Served) -> None:
    stream = served.client().chat.completions.create(
        model="hearth",
        messages=[{"role": "user", "content": "Good morning! Tell me about tea."}],
        stream=True,
        user="stream-test",
    )
    reply = _text(stream)
    assert reply.strip()
    session = served.rows("SELECT id FROM sessions WHERE client='stream-test'")[0]["id"]
    rows = served.session(session)
    assert rows[0]["text"] == "Good morning! Tell me about tea."
    assert [r["role"] for r in rows] == ["user", "assistant"]
    # The journal keeps the reply as it ended: what was streamed, or that cut back to the end
    # of its last sentence (a reply stopped at max_tokens).
    assert rows[1]["text"] and reply.startswith(rows[1]["text"])


def test_conversation_continues_across_requests(served: Served) -> None:
    client = served.client()
    first: list[Any] = [{"role": "system", "content": "a client's own prompt"}]
    first.append({"role": "user", "content": "I just planted tomatoes in my garden."})
    raw = client.chat.completions.with_raw_response.create(
        model="hearth",
        messages=first,
        stream=True,
    )
    session = int(raw.headers["X-Hearth-Session"])
    # All that was streamed, a fragment past the reply's last sentence included.
    streamed = _text(raw.parse())
    said = [*first, {"role": "assistant", "content": streamed}]
    said.append({"role": "user", "content": "What should I water them with?"})
    # No session named: the conversation is found by what it repeats (Hearth's own reply).
    two = client.chat.completions.create(model="hearth", messages=said)
    assert _hearth(two)["session_id"] == session
    rows = served.session(session)
    assert [r["role"] for r in rows] == ["user", "assistant", "user", "assistant"]
    # One path, nothing journaled twice: each message follows the one before it.
    assert [r["parent_id"] for r in rows[1:]] == [r["id"] for r in rows[:-1]]
    assert rows[3]["text"] == two.choices[0].message.content


def test_regeneration_and_edit_are_branches(served: Served) -> None:
    client = served.client()
    said: list[Any] = [{"role": "user", "content": "Name a colour."}]
    one = client.chat.completions.create(model="hearth", messages=said, user="branches")
    again = client.chat.completions.create(model="hearth", messages=said, user="branches")
    ext_one, ext_again = _hearth(one), _hearth(again)
    assert ext_again["action"] == "regenerate"
    assert ext_again["user_message_id"] == ext_one["user_message_id"]
    assert ext_again["message_id"] != ext_one["message_id"]
    edited: list[Any] = [{"role": "user", "content": "Name a fruit."}]
    three = client.chat.completions.create(model="hearth", messages=edited, user="branches")
    ext_three = _hearth(three)
    assert ext_three["action"] == "edit"
    rows = {r["id"]: r for r in served.session(ext_one["session_id"])}
    assert len(rows) == 5  # one message, two replies; its edit, one reply
    assert rows[ext_again["message_id"]]["parent_id"] == ext_one["user_message_id"]
    edit = rows[ext_three["user_message_id"]]
    assert json.loads(edit["meta_json"])["edit_of"] == ext_one["user_message_id"]
    # The regeneration is the kept reply (the one a client going on would resend).
    kept = served.rows(
        "SELECT message_id FROM choices WHERE parent_id=?", ext_one["user_message_id"]
    )
    assert [r["message_id"] for r in kept] == [ext_again["message_id"]]


def test_memory_recalled_from_an_earlier_session(served: Served) -> None:
    client = served.client()
    client.chat.completions.create(
        model="hearth",
        messages=[{"role": "user", "content": "My sister Anouk lives in Lyon."}],
        user="earlier",
    )
    later = client.chat.completions.create(
        model="hearth",
        messages=[{"role": "user", "content": "Where does my sister Anouk live?"}],
        user="later",
    )
    recalled = _hearth(later)["recalled"]
    assert recalled
    texts = [_api(served, "GET", f"/api/memories/{i}").json()["text"] for i in recalled]
    assert any("Lyon" in t for t in texts), texts


def _api(served: Served, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {served.token}", **kwargs.pop("headers", {})}
    return httpx.request(method, served.url + path, headers=headers, timeout=120, **kwargs)


def test_requests_without_the_token_are_refused(served: Served) -> None:
    with pytest.raises(openai.AuthenticationError):
        served.client("not-the-token").models.list()
    bare = httpx.get(served.url + "/v1/models", timeout=10)
    assert bare.status_code == 401
    assert "serve.token" in bare.json()["error"]["message"]
    # A web page in the person's browser: refused even were it to hold the token.
    page = _api(served, "GET", "/v1/models", headers={"Origin": "http://evil.example"})
    assert page.status_code == 403
    # A name rebound to 127.0.0.1 by a page's DNS: its Host says so.
    rebound = _api(served, "GET", "/v1/models", headers={"Host": "evil.example"})
    assert rebound.status_code == 403
    assert [m.id for m in served.client().models.list()] == ["hearth"]


def test_memory_api(served: Served) -> None:
    added = _api(served, "POST", "/api/memories", json={"text": "The person likes rowing."})
    assert added.status_code == 200, added.text
    memory = added.json()
    listed = [m["id"] for m in _api(served, "GET", "/api/memories").json()]
    assert memory["id"] in listed
    found = _api(served, "GET", "/api/memories/search", params={"q": "rowing"}).json()
    assert found[0]["memory"]["id"] == memory["id"]
    secret = _api(served, "POST", "/api/memories", json={"text": "my password is hunter22x"})
    assert secret.status_code == 400 and secret.json()["error"]["exit_code"] == 2
    assert _api(served, "DELETE", f"/api/memories/{memory['id']}").status_code == 200
    gone = _api(served, "GET", f"/api/memories/{memory['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["exit_code"] == 9


def test_local_commands_go_through_the_server(served: Served) -> None:
    env = _env(served.home)
    said = subprocess.run(
        [str(HEARTH), "say", "--json", "Hello from the command line."],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert said.returncode == 0, said.stderr
    result = json.loads(said.stdout)
    rows = served.rows("SELECT text FROM messages WHERE id=?", result["user_turn_id"])
    assert rows[0]["text"] == "Hello from the command line."
    # It borrowed nothing: the server answered it with the model it holds.
    assert "lending the data dir" not in (served.home / "hearth.log").read_text()
    # The memory commands its API has go through it too (its embedder is loaded)...
    added = _hearth_cli(served, "memory", "add", "--json", "The person keeps bees.")
    mid = json.loads(added)["id"]
    assert "lending the data dir" not in (served.home / "hearth.log").read_text()
    # ... and one it has not borrows the data dir, which the server then takes back.
    assert "pinned" in _hearth_cli(served, "memory", "pin", mid)
    assert "lending the data dir" in (served.home / "hearth.log").read_text()
    found = _api(served, "GET", "/api/memories/search", params={"q": "bees"}).json()
    assert found[0]["memory"]["id"] == mid and found[0]["memory"]["pinned"]


def _hearth_cli(served: Served, *args: str) -> str:
    done = subprocess.run(
        [str(HEARTH), *args], env=_env(served.home), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_client_that_goes_away_stops_its_reply(served: Served) -> None:
    # The tiny model sometimes ends a reply on its own within the moment the server takes to
    # notice the hang-up: such a try proves nothing either way, so try again (a server that never
    # stops a gone client fails every try).
    outcomes = []
    for attempt in range(3):
        client = f"gone-{attempt}"
        body = {
            "model": "hearth",
            "stream": True,
            "user": client,
            "max_tokens": 400,
            "messages": [
                {"role": "user", "content": "Tell me a very long story about a lighthouse."}
            ],
        }
        headers = {"Authorization": f"Bearer {served.token}"}
        with httpx.stream(
            "POST", f"{served.url}/v1/chat/completions", json=body, headers=headers, timeout=60
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if '"content": "' in line and '"content": ""' not in line:
                    break  # the reply has begun: hang up
        deadline = time.monotonic() + 60
        while True:
            session = served.rows("SELECT id FROM sessions WHERE client=?", client)[0]["id"]
            rows = served.rows("SELECT role, status FROM messages WHERE session_id=?", session)
            if rows[-1]["status"] != "incomplete" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        outcomes.append([(r["role"], r["status"]) for r in rows])
        # Journaled once, kept as far as it went: stopped, or (rarely) ended by the model itself.
        assert outcomes[-1] in (
            [("user", "complete"), ("assistant", "interrupted")],
            [("user", "complete"), ("assistant", "complete")],
        ), outcomes
        if outcomes[-1][-1][1] == "interrupted":
            break
    assert outcomes[-1][-1] == ("assistant", "interrupted"), outcomes
