"""`hearth memory ... --connect URL`: the memory commands run against a real `hearth serve`
(a process of its own, in a data dir of its own) from another data dir, print what they print
locally, and relay the server's refusals as one line with the same exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import RunHearth
from tests.served import Served, running_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`hearth serve --port 0` in a data dir of its own, for this module's tests."""
    with running_server(tmp_path_factory.mktemp("served") / "home") as served:
        yield served


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_memory_commands_through_a_served_hearth(run_hearth: RunHearth, served: Served) -> None:
    token = {"HEARTH_REMOTE__TOKEN": served.token}

    def hearth(*args: str) -> str:
        done = run_hearth(*args, "--connect", served.url, env=token)
        assert done.returncode == 0, done.stderr
        return done.stdout

    added = hearth("memory", "add", "My sister Ana lives in Lisbon", "--json")
    memory = json.loads(added)
    assert memory["text"] == "My sister Ana lives in Lisbon"
    mid = memory["id"]

    assert mid in hearth("memory", "list")
    assert [m["id"] for m in json.loads(hearth("memory", "list", "--json"))] == [mid]
    assert mid in hearth("memory", "search", "Lisbon")
    hits = json.loads(hearth("memory", "search", "Lisbon", "--json"))
    # Flat, as locally: the memory's fields and the hit's signals side by side.
    assert hits[0]["id"] == mid and "score" in hits[0] and "text" in hits[0]

    shown = hearth("memory", "show", mid)
    assert shown.startswith(f"{mid} · fact · about user")
    assert "My sister Ana lives in Lisbon" in shown
    details = json.loads(hearth("memory", "show", mid, "--json"))
    assert details["id"] == mid and details["sources"] == [] and details["edges"] == []

    forgot = hearth("memory", "forget", mid)
    assert f"forgot 1 memories: {mid}" in forgot
    assert "the conversation is kept" in forgot
    assert json.loads(hearth("memory", "list", "--json")) == []


def test_the_data_dir_forms_of_forget_are_usage_errors(
    run_hearth: RunHearth, served: Served
) -> None:
    token = {"HEARTH_REMOTE__TOKEN": served.token}
    for extra in (["m_x", "--dry-run"], ["m_x", "--everywhere"], ["--matching", "Ana"]):
        done = run_hearth("memory", "forget", *extra, "--connect", served.url, env=token)
        assert done.returncode == 2, done.stderr
        assert "--connect" in _one_line(done.stderr)


def test_a_secret_is_refused_before_it_is_sent(run_hearth: RunHearth, served: Served) -> None:
    done = run_hearth(
        "memory", "add", "my password is hunter2", "--connect", "http://127.0.0.1:9", env={}
    )  # no token and nothing listening there: refused before either matters
    assert done.returncode == 2
    assert "secret" in _one_line(done.stderr)


def test_a_wrong_or_missing_token_is_one_line(run_hearth: RunHearth, served: Served) -> None:
    wrong = run_hearth(
        "memory", "list", "--connect", served.url, env={"HEARTH_REMOTE__TOKEN": "wrong"}
    )
    assert wrong.returncode == 23
    assert "refused" in _one_line(wrong.stderr)

    missing = run_hearth("memory", "list", "--connect", served.url)
    assert missing.returncode == 23
    assert "HEARTH_REMOTE__TOKEN" in _one_line(missing.stderr)


def test_remote_url_in_settings_is_a_connect(run_hearth: RunHearth, served: Served) -> None:
    env = {"HEARTH_REMOTE__URL": served.url, "HEARTH_REMOTE__TOKEN": served.token}
    done = run_hearth("memory", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_a_local_server_is_not_a_remote(monkeypatch: pytest.MonkeyPatch, served: Served) -> None:
    # Found, it answers what its API can (tests/test_serve.py); it is never taken for a Hearth
    # elsewhere, whose refusals (`forget --matching` runs there) would then apply here.
    from agent.access import server as server_for

    monkeypatch.setenv("HEARTH_HOME", str(served.home))
    assert server_for(None) is not None
    assert server_for(None, here=False) is None
