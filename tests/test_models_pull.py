"""`hearth models pull` against a fake Hub: progress, a cut connection resumed, the sha256
checked, refusals, offline, and the person's choice of model.

Why a fake Hub: this machine cannot reach huggingface.co, and a test must not depend on a
network, a publisher's files or their size. tests/fake_hub.py answers on 127.0.0.1 as the Hub's
resolve endpoint does (HEAD with X-Repo-Commit, ETag/X-Linked-Etag, Content-Length and
X-Linked-Size; GET honouring Range), so the real huggingface_hub client runs its real download
path. `hearth` runs as a subprocess because huggingface_hub reads HF_ENDPOINT and HF_HUB_OFFLINE
when it is imported (the suite sets HF_HUB_OFFLINE=1 for every test; these runs unset it)."""

from __future__ import annotations

import json
import os
import pty
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import HEARTH
from tests.fake_hub import FakeHub, HubFile, fake_hub

REPO, FILE = "someone/Tiny-Chat-GGUF", "tiny-chat-q4_k_m.gguf"
DATA = random.Random(24).randbytes(12 * 1024 * 1024)
CUT = 11 * 1024 * 1024
"""Past huggingface_hub's first 10 MiB read: what it had written is kept, the rest asked for."""


def _pull(
    hub_url: str, home: Path, *args: str, offline: bool = False, stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEARTH_HOME": str(home),
        "HF_ENDPOINT": hub_url,
        "HF_HUB_OFFLINE": "1" if offline else "0",
        "TRANSFORMERS_OFFLINE": "0",
        "HF_HOME": str(home.parent / "hf-home"),  # no token, no cache of the developer's
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return subprocess.run(
        [str(HEARTH), "models", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        stdin=subprocess.DEVNULL if stdin is None else stdin,
    )


def _ggufs(home: Path) -> list[str]:
    """What the model finder looks at: models/*.gguf."""
    return sorted(p.name for p in (home / "models").glob("*.gguf"))


def _leftovers(home: Path) -> list[Path]:
    """Files a download left in models/.partial (huggingface_hub's own bookkeeping aside)."""
    staging = home / "models" / ".partial"
    bookkeeping = {".gitignore", "CACHEDIR.TAG"}
    return [
        p
        for p in staging.rglob("*")
        if p.is_file() and p.name not in bookkeeping and p.suffix != ".lock"
    ]


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with fake_hub() as running:
        running.files[(REPO, FILE)] = HubFile(DATA)
        yield running


def test_pull_shows_progress_resumes_a_cut_connection_and_checks_the_file(
    hub: FakeHub, hearth_home: Path
) -> None:
    hub.cut_first_get_after = CUT
    done = _pull(hub.url, hearth_home, "pull", REPO, FILE, "--use", "--json")

    assert done.returncode == 0, done.stderr
    assert "100%" in done.stderr  # the progress bar, drawn to its end
    gets = [r for r in hub.requests if r[0] == "GET"]
    assert len(gets) == 2 and gets[0][2] is None
    resumed = re.fullmatch(r"bytes=(\d+)-", gets[1][2] or "")
    assert resumed and 0 < int(resumed[1]) <= CUT  # resumed with what it had, not restarted
    placed = hearth_home / "models" / FILE
    assert placed.read_bytes() == DATA
    result = json.loads(done.stdout)
    assert result["path"] == str(placed) and result["in_use"] is True
    assert result["commit"] and len(result["sha256"]) == 64 and result["size"] == len(DATA)
    assert _leftovers(hearth_home) == []
    listed = json.loads(_pull(hub.url, hearth_home, "list", "--json").stdout)
    assert [r["path"] for r in listed if r["in_use"]] == [str(placed)]


def test_a_pulled_model_is_not_used_unless_the_person_says_so(
    hub: FakeHub, hearth_home: Path
) -> None:
    done = _pull(hub.url, hearth_home, "pull", REPO, FILE)  # no terminal to ask on, no --use

    assert done.returncode == 0, done.stderr
    assert "the chat keeps" in done.stderr and f"hearth models use {FILE}" in done.stderr
    listed = json.loads(_pull(hub.url, hearth_home, "list", "--json").stdout)
    used = [r for r in listed if r["in_use"]]
    assert [r["source"] for r in used] == ["embedded"]  # the newest .gguf did not take over
    assert _pull(hub.url, hearth_home, "use", FILE).returncode == 0
    listed = json.loads(_pull(hub.url, hearth_home, "list", "--json").stdout)
    assert [Path(r["path"]).name for r in listed if r["in_use"]] == [FILE]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refused_file_is_one_line_exit_24_and_nothing_written(
    hub: FakeHub, hearth_home: Path, status: int
) -> None:
    hub.files[(REPO, FILE)] = HubFile(DATA, status=status)
    done = _pull(hub.url, hearth_home, "pull", REPO, FILE, "--use")

    assert done.returncode == 24, done.stderr
    assert done.stderr.count("\n") == 1 and f"HTTP {status}" in done.stderr
    assert "Traceback" not in done.stderr
    assert _ggufs(hearth_home) == [] and not any(r[0] == "GET" for r in hub.requests)


def test_offline_is_one_line_exit_24_and_asks_nothing(hub: FakeHub, hearth_home: Path) -> None:
    done = _pull(hub.url, hearth_home, "pull", REPO, FILE, offline=True)

    assert done.returncode == 24, done.stderr
    assert "offline" in done.stderr and done.stderr.count("\n") == 1
    assert hub.requests == [] and _ggufs(hearth_home) == []


def test_a_hub_that_cannot_be_reached_is_exit_24(hearth_home: Path) -> None:
    with fake_hub() as gone:
        url = gone.url  # a port nothing listens on once the block ends
    done = _pull(url, hearth_home, "pull", REPO, FILE)

    assert done.returncode == 24, done.stderr
    assert "cannot download" in done.stderr and done.stderr.count("\n") == 1


def test_a_bad_checksum_is_exit_24_and_the_download_is_deleted(
    hub: FakeHub, hearth_home: Path
) -> None:
    hub.files[(REPO, FILE)] = HubFile(DATA, claimed_sha256="ab" * 32)
    done = _pull(hub.url, hearth_home, "pull", REPO, FILE, "--use")

    assert done.returncode == 24, done.stderr
    last = done.stderr.strip().splitlines()[-1]  # after the progress bar: one line
    assert last.startswith("hearth: ") and "does not match the sha256" in last
    assert _ggufs(hearth_home) == [] and _leftovers(hearth_home) == []
    assert not (hearth_home / "models" / "chosen.json").exists()  # nothing chosen either


def test_an_unknown_name_without_a_file_is_a_usage_error(hearth_home: Path) -> None:
    done = _pull("http://127.0.0.1:9", hearth_home, "pull", "no-such-model")
    assert done.returncode == 2 and "not in the catalog" in done.stderr


def test_a_file_larger_than_the_free_disk_is_refused_before_downloading(
    hub: FakeHub, hearth_home: Path
) -> None:
    hub.files[(REPO, FILE)] = HubFile(DATA, claimed_size=10**18)  # an exabyte
    done = _pull(hub.url, hearth_home, "pull", REPO, FILE)

    assert done.returncode == 10, done.stderr  # the disk-full code
    assert "not enough free disk" in done.stderr and done.stderr.count("\n") == 1
    assert not any(r[0] == "GET" for r in hub.requests) and _ggufs(hearth_home) == []


def test_a_run_killed_part_way_leaves_no_partial_file_for_long(
    hub: FakeHub, hearth_home: Path
) -> None:
    records = hearth_home / "models" / ".partial" / ".cache" / "huggingface" / "download"
    records.mkdir(parents=True)
    orphan = records / f"{FILE}.{'ab' * 32}.1a2b3c4d.incomplete"  # as huggingface_hub names it
    orphan.write_bytes(DATA[:CUT])
    done = _pull(hub.url, hearth_home, "pull", REPO, FILE, "--use")

    assert done.returncode == 0, done.stderr
    assert not orphan.exists() and _leftovers(hearth_home) == []


@pytest.mark.parametrize("answer", ["y", "n"])
def test_on_a_terminal_the_command_asks(hub: FakeHub, hearth_home: Path, answer: str) -> None:
    keyboard, terminal = pty.openpty()  # stdin a terminal: the person is there to answer
    try:
        os.write(keyboard, f"{answer}\n".encode())
        done = _pull(hub.url, hearth_home, "pull", REPO, FILE, "--json", stdin=terminal)
    finally:
        os.close(keyboard)
        os.close(terminal)

    assert done.returncode == 0, done.stderr
    assert "from now on?" in done.stderr  # the question, beside the output
    assert json.loads(done.stdout)["in_use"] is (answer == "y")
