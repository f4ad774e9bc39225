"""A closed pipe (`hearth say ... | head -2`) ends the printing, not the command: the reply is
generated and journaled whole, and each command keeps its own exit code. Real processes: what
a closed pipe does to a process (EPIPE, the flush at exit) only a process can show."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import HEARTH, RunHearth


def _started(args: list[str], home: Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(HEARTH), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "HEARTH_HOME": str(home), **env},
    )


def test_say_into_a_pipe_closed_after_the_first_bytes_keeps_the_reply_whole(
    hearth_home: Path, run_hearth: RunHearth
) -> None:
    say = _started(
        ["say", "Tell me a long story about a dragon, in many lines."],
        hearth_home,
        HEARTH_SAMPLING__MAX_TOKENS="48",
        HEARTH_SAMPLING__SEED="7",
    )
    assert say.stdout is not None and say.stderr is not None
    first = say.stdout.read(1)  # the first piece of the reply has been printed...
    say.stdout.close()  # ...and the reader leaves, as `head -c 1` does
    stderr = say.stderr.read().decode()
    code = say.wait(timeout=240)

    assert first, stderr
    assert code == 0, stderr  # README: a closed stdout does not change the exit code
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    listed = json.loads(run_hearth("logs", "list", "--json", "-n", "2").stdout)
    reply = next(m for m in listed if m["role"] == "assistant")
    assert reply["status"] == "complete"  # not `error`: the turn went on to its end
    assert len(reply["text"]) > 1  # generated whole, not cut where the reader left
    assert reply["text"].startswith(first.decode(errors="ignore"))
    # The dropped output is noted in the log (so the test knows the pipe really was closed).
    assert "stdout was closed before the output ended" in (hearth_home / "hearth.log").read_text()


def test_doctor_into_a_closed_pipe_keeps_its_own_exit_code(hearth_home: Path) -> None:
    hearth_home.mkdir(mode=0o700)
    hearth_home.chmod(0o777)  # a problem doctor reports: exit 18
    doctor = _started(["doctor"], hearth_home)
    assert doctor.stdout is not None and doctor.stderr is not None
    doctor.stdout.close()  # the reader is gone before doctor prints its first line
    stderr = doctor.stderr.read().decode()
    assert doctor.wait(timeout=120) == 18, stderr
    assert "1 problem(s): permissions" in stderr  # its own line, on the stderr still open
    assert "Traceback" not in stderr and "unexpected error" not in stderr


def test_doctor_healthy_into_a_closed_pipe_exits_0(hearth_home: Path) -> None:
    doctor = _started(["doctor"], hearth_home)
    assert doctor.stdout is not None and doctor.stderr is not None
    doctor.stdout.close()
    stderr = doctor.stderr.read().decode()
    assert doctor.wait(timeout=120) == 0, stderr
    assert stderr == ""
