"""End to end in a real terminal: `hearth` runs in tmux on a temporary data dir, a person types
two messages, and the screen (read with `capture-pane`) shows the replies, their markers and the
memory panel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

HEARTH = Path(sys.executable).with_name("hearth")


class Terminal:
    """One tmux session running one command, 100x30."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        # Its own server socket: nothing of the person's tmux is touched.
        self.tmux = ["tmux", "-L", name, "-f", os.devnull]
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", name, "-x", "100", "-y", "30", *command],
            check=True,
            env=env,
        )

    def screen(self) -> str:
        done = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return done.stdout

    def type(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, "-l", "--", text], check=True)

    def key(self, *names: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *names], check=True)

    def until(self, text: str, timeout: float = 90, times: int = 1) -> str:
        """The screen once `text` is on it (`times` times)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= times:
                return screen
            time.sleep(0.3)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(hearth_home: Path) -> Iterator[Terminal]:
    env = {
        **os.environ,
        "HEARTH_HOME": str(hearth_home),
        "HEARTH_SAMPLING__MAX_TOKENS": "12",
        "TERM": "xterm-256color",
    }
    term = Terminal(f"hearth-test-{os.getpid()}", [str(HEARTH)], env)
    try:
        yield term
    finally:
        term.close()


def test_two_messages_in_a_real_terminal(terminal: Terminal) -> None:
    terminal.until("Say something")
    terminal.until("session")  # the status bar, once drawn
    terminal.type("Hi, I'm Sam and I love green tea.")
    terminal.key("Enter")
    terminal.until("tok/s")
    first = terminal.until("remembered")  # the reply says what it left in memory, once written
    assert "Hi, I'm Sam and I love green tea." in first
    terminal.key("C-r")  # another version of the reply
    swiped = terminal.until("2/2")
    assert "session 1" in swiped
    terminal.type("What do I love?")
    terminal.key("Enter")
    second = terminal.until("─ hearth ─", times=2)
    assert "What do I love?" in second and "2/2" in second
    assert "Hi, I'm Sam and I love green tea." in second
    terminal.key("C-b")  # the memory panel, beside the chat
    panel = terminal.until("remembered after it")
    assert "recalled for this reply" in panel
    terminal.key("C-q")
    time.sleep(2)
