"""A real `hearth serve` for a test module: a process of its own in a data dir of its own,
started on a free port and stopped (SIGTERM, as a person's ctrl+c) after."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTS_IN_S = 120.0
STOPS_IN_S = 30.0


@dataclass(frozen=True)
class Served:
    """A running `hearth serve`: its data dir, URL and token."""

    url: str
    token: str
    home: Path

    def client(self, token: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=token or self.token, max_retries=0)

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        """The journal, read as another process would (read-only, beside the server)."""
        db = sqlite3.connect(f"file:{self.home / 'journal.sqlite3'}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def session(self, session_id: int) -> list[sqlite3.Row]:
        return self.rows(
            "SELECT id, parent_id, role, text, meta_json FROM messages WHERE session_id=? "
            "ORDER BY id",
            session_id,
        )


def server_env(home: Path, **settings: str) -> dict[str, str]:
    """This process's environment for `hearth` in `home`: offline, none of the developer's
    HEARTH_* settings, these instead."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update(
        HEARTH_HOME=str(home),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        **settings,
    )
    return env


@contextlib.contextmanager
def running_server(home: Path, **settings: str) -> Iterator[Served]:
    """`hearth serve --port 0` in `home`, until the block ends; it must stop cleanly and take
    its address (serve.json) back."""
    log_path = home.parent / f"{home.name}-serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", "from tui.cli.main import main; main()", "serve", "--port", "0"],
            cwd=ROOT,
            env=server_env(home, **settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            address = home / "serve.json"
            deadline = time.monotonic() + STARTS_IN_S
            while not address.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"hearth serve did not start: {log_path.read_text()}")
                time.sleep(0.2)
            url = json.loads(address.read_text())["url"]
            yield Served(url, (home / "serve.token").read_text().strip(), home)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(STOPS_IN_S)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                pytest.fail(f"hearth serve did not stop: {log_path.read_text()}")
    assert code == 0, log_path.read_text()
    assert not address.exists()  # the local commands stop going through it
