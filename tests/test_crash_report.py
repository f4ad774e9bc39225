"""Reading what faulthandler left in the log, and which setting a crash should point to."""

from __future__ import annotations

from pathlib import Path

from agent.runtime.crashes import RunGuard, advice, past_crashes, read_fault

# Python 3.11's faulthandler output for a crash inside llama.cpp on the model thread.
FAULT_IN_LLAMA = """2026-12-01 10:00:00,000 INFO agent.startup: loading
Fatal Python error: Segmentation fault

Thread 0x00007f3c2a1fe6c0 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 327 in wait
  File "/app/.venv/lib/python3.11/site-packages/textual/app.py", line 400 in run

Current thread 0x00007f3c2b9ff6c0 (most recent call first):
  File "/app/.venv/lib/python3.11/site-packages/llama_cpp/_internals.py", line 321 in decode
  File "/app/.venv/lib/python3.11/site-packages/llama_cpp/llama.py", line 650 in eval
  File "/app/.venv/lib/python3.11/site-packages/llama_cpp/llama.py", line 1300 in generate
  File "/home/sam/hearth/agent/runtime.py", line 140 in stream
  File "/home/sam/hearth/agent/turn.py", line 210 in run_turn

Extension modules: numpy.core._multiarray_umath (total: 1)
"""


def test_the_fault_names_the_signal_the_llama_frame_and_hearths_caller() -> None:
    fault, where = read_fault(FAULT_IN_LLAMA)
    assert fault == "Segmentation fault"
    assert where == (
        "llama_cpp/_internals.py:321 (decode), called from agent/runtime.py:140 (stream)"
    )


def test_no_fault_in_the_log_means_killed() -> None:
    assert read_fault("2026-12-01 INFO all fine\n") == (None, None)


def test_advice_follows_the_signal_and_the_setting() -> None:
    where = "llama_cpp/_internals.py:321 (decode)"
    assert "extra_buffer_types" in advice("Segmentation fault", where, extra_buffers=True)
    assert "extra_buffer_types" not in advice("Segmentation fault", where, extra_buffers=False)
    assert "scripts/setup" in advice("Illegal instruction", where, extra_buffers=False)
    assert "nothing to change" in advice(None, None, extra_buffers=True)


def test_a_live_run_is_not_a_crash_and_a_closed_one_leaves_nothing(tmp_path: Path) -> None:
    log = tmp_path / "hearth.log"
    guard = RunGuard.begin(tmp_path / "runs", log, "hearth say", extra_buffers=True)
    assert past_crashes(tmp_path / "runs", log) == []  # its owner (this process) holds it
    assert guard.path.stat().st_mode & 0o777 == 0o600
    guard.end()
    assert not guard.path.exists()
    assert past_crashes(tmp_path / "runs", log) == []


def test_a_dead_runs_marker_becomes_one_report(tmp_path: Path) -> None:
    log = tmp_path / "hearth.log"
    log.write_text("before the run\n")
    guard = RunGuard.begin(tmp_path / "runs", log, "hearth say", extra_buffers=True)
    with log.open("a") as fh:
        fh.write(FAULT_IN_LLAMA)
    # What the kernel does when the process dies: the lock goes, the file stays.
    assert guard._fh is not None
    guard._fh.close()
    guard._fh = None
    crashes = past_crashes(tmp_path / "runs", log)
    assert len(crashes) == 1
    line = crashes[0].line()
    assert "hearth say" in line and "died: Segmentation fault in llama_cpp/_internals.py" in line
    assert 'model.extra_buffer_types = "off"' in line
    assert past_crashes(tmp_path / "runs", log) == []  # reported once


def test_frames_are_named_from_their_package_whatever_its_depth() -> None:
    log = FAULT_IN_LLAMA.replace("/agent/runtime.py", "/agent/runtime/backend.py")
    _, where = read_fault(log)
    assert where is not None and where.endswith("called from agent/runtime/backend.py:140 (stream)")


def test_a_run_is_named_by_its_command_words_never_its_arguments() -> None:
    from tui.cli.main import command_path

    assert command_path(["say", "my PIN is 1234", "--json"]) == "hearth say"
    assert command_path(["logs", "list", "-n", "5"]) == "hearth logs list"
    assert command_path(["memory", "forget", "--matching", "Ana"]) == "hearth memory forget"
    assert command_path(["--new"]) == "hearth"


def test_a_note_between_the_thread_line_and_its_frames_is_skipped() -> None:
    head = '(most recent call first):\n  File "/app/.venv/lib/python3.11/site-packages/llama_cpp'
    log = FAULT_IN_LLAMA.replace(head, head.replace("\n", "\n  Garbage-collecting\n"))
    assert "Garbage-collecting" in log
    assert read_fault(log) == read_fault(FAULT_IN_LLAMA)


def test_a_marker_that_cannot_be_written_never_stops_the_run(tmp_path: Path) -> None:
    blocked = tmp_path / "runs"
    blocked.write_text("a file where the folder should be")
    guard = RunGuard.begin(blocked, tmp_path / "hearth.log", "hearth logs list", extra_buffers=True)
    guard.end()
    assert blocked.read_text() == "a file where the folder should be"
