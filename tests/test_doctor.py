"""`hearth doctor`, `hearth backup` and `hearth restore` on real data dirs and stores."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.doctor import Diagnosis, diagnose, repair
from memory import health
from memory.backup import MANIFEST, backup, restore
from memory.datadir import ensure_data_dir
from memory.errors import BackupError, DataDirLockedError, RestoreError
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.graph.vector_index import VectorIndex
from memory.journal.journal import Journal
from memory.settings import Paths, Settings, resolve_paths
from tests.conftest import RunHearth

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def paths(hearth_home: Path, embedder: SentenceEmbedder) -> Paths:
    """A data dir with one session of two messages and one memory, written by the real stores."""
    resolved = resolve_paths()
    ensure_data_dir(resolved.data_dir)
    journal = Journal(resolved.journal)
    try:
        session = journal.create_session("lisbon")
        first = journal.append(session.id, "user", "I moved to Lisbon last spring.")
        journal.append(session.id, "assistant", "How are you finding it?", parent_id=first.id)
    finally:
        journal.close()
    with MemoryStore.open(resolved, Settings(), write=True, embedder=embedder) as store:
        store.add("I live in Lisbon")
    return resolved


def by_name(diagnosis: Diagnosis) -> dict[str, tuple[bool, str, str]]:
    return {c.name: (c.ok, c.detail, c.fix) for c in diagnosis.checks}


@pytest.fixture
def holder(paths: Paths) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the data dir lock, as a running chat would."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "hold_lock.py"), str(paths.lock_file)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_healthy_data_dir_exits_0_and_json_parses(paths: Paths, tmp_path: Path) -> None:
    # Through the real entry point, noting what it imported: doctor must stay quick, so it
    # never loads torch or llama.cpp (the GGUF header is read by hand).
    modules = tmp_path / "modules.txt"
    code = (
        "import sys; sys.argv = ['hearth', 'doctor', '--json']\n"
        "from tui.cli import main as cli\n"
        "try:\n    cli.main()\nfinally:\n"
        f"    open({str(modules)!r}, 'w').write('\\n'.join(sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded = set(modules.read_text().split())
    assert not loaded & {"torch", "sentence_transformers", "llama_cpp", "gguf"}
    checks = json.loads(done.stdout)
    assert {c["name"] for c in checks} == {
        "config",
        "journal",
        "memory",
        "index",
        "embedder",
        "model",
        "permissions",
        "lock",
        "leftovers",
        "disk",
        "persona",
    }
    assert all(c["ok"] and set(c) == {"name", "ok", "detail", "fix"} for c in checks)
    found = {c["name"]: c["detail"] for c in checks}
    assert "1 sessions, 2 messages" in found["journal"]
    assert "1 ids match" in found["index"] and "1 sampled vectors equal" in found["index"]


def test_loose_modes_and_a_lost_index_entry_are_found_and_fixed(paths: Paths) -> None:
    paths.journal.chmod(0o644)
    index = VectorIndex(paths.chroma_dir, ef_search=256, ef_construction=128)
    index.delete(sorted(index.ids()))
    index.close()

    found = by_name(diagnose(paths))
    ok, detail, fix = found["permissions"]
    assert not ok and "journal.sqlite3 (0644)" in detail and "--fix" in fix
    ok, detail, fix = found["index"]
    assert not ok and "1 memories missing" in detail and "rebuilds the index" in fix
    assert all(ok for name, (ok, _, _) in found.items() if name not in {"permissions", "index"})

    done = repair(diagnose(paths), paths)
    assert any("tightened" in line for line in done)
    assert any("rebuilt the index" in line and "1 vectors" in line for line in done)
    assert diagnose(paths).healthy
    assert paths.journal.stat().st_mode & 0o777 == 0o600


def test_a_vector_that_differs_from_the_stored_one_is_found(paths: Paths) -> None:
    index = VectorIndex(paths.chroma_dir, ef_search=256, ef_construction=128)
    [memory_id] = index.ids()
    vector = index.vectors([memory_id])[memory_id]
    index.upsert([memory_id], -vector.reshape(1, -1))
    index.close()
    ok, detail, _fix = by_name(diagnose(paths))["index"]
    assert not ok and "1 of 1 sampled vectors differ" in detail


def test_a_changed_embedder_is_found(paths: Paths) -> None:
    db = sqlite3.connect(paths.memory_db)
    db.execute("UPDATE embedder SET hash='0123456789abcdef'")
    db.commit()
    db.close()
    ok, detail, fix = by_name(diagnose(paths))["embedder"]
    assert not ok and "0123456789ab" in detail and "rebuild --reembed" in fix


def test_garbage_pages_in_the_journal_are_found(paths: Paths) -> None:
    size = paths.journal.stat().st_size
    assert size >= 4 * 4096
    with paths.journal.open("r+b") as fh:
        fh.seek(4096)
        fh.write(os.urandom(size - 4096))
    ok, detail, fix = by_name(diagnose(paths))["journal"]
    assert not ok and "journal.sqlite3" in detail and "logs recover" in fix
    assert "keeps a copy of the damaged file" in fix
    # --fix acts on it: the damaged file kept, what can be read salvaged.
    done = repair(diagnose(paths), paths)
    assert any(line.startswith("journal: recovered with") for line in done), done
    assert list(paths.data_dir.glob("journal.sqlite3.damaged-*"))
    assert by_name(diagnose(paths))["journal"][0]


def test_doctor_reads_under_a_held_lock_and_fix_is_refused(
    paths: Paths, holder: subprocess.Popen[str], run_hearth: RunHearth
) -> None:
    ok, detail, _fix = by_name(diagnose(paths))["lock"]
    assert ok and f"pid {holder.pid}" in detail
    with pytest.raises(DataDirLockedError):
        repair(diagnose(paths), paths)
    refused = run_hearth("doctor", "--fix")
    assert refused.returncode == 7 and f"pid {holder.pid}" in refused.stderr


def test_unhealthy_exits_18_with_a_fix_on_each_problem_line(
    paths: Paths, run_hearth: RunHearth
) -> None:
    paths.memory_db.chmod(0o644)
    done = run_hearth("doctor")
    assert done.returncode == 18
    [line] = [x for x in done.stdout.splitlines() if x.startswith("FAIL")]
    assert "permissions" in line and "memory.sqlite3 (0644)" in line and "fix:" in line
    assert "1 problem(s): permissions" in done.stderr


def test_backup_under_a_held_lock_then_restore_on_a_new_machine(
    paths: Paths, holder: subprocess.Popen[str], tmp_path: Path, run_hearth: RunHearth
) -> None:
    folder = tmp_path / "backups" / "today"
    manifest = backup(paths, folder)  # a chat holds the lock: a backup only reads
    assert manifest.counts == {"sessions": 1, "messages": 2, "memories": 1}
    assert manifest.embedder is not None and manifest.embedder.name == "all-MiniLM-L6-v2"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in folder.iterdir()) == [
        "journal.sqlite3",
        "manifest.json",
        "memory.sqlite3",
    ]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in folder.iterdir())
    with pytest.raises(BackupError, match="already exists"):
        backup(paths, folder)

    other = tmp_path / "new-machine"
    env = {"HEARTH_HOME": str(other)}
    done = run_hearth("restore", str(folder), env=env)
    assert done.returncode == 0, done.stderr
    for line in ("sessions: 1 (backup: 1) ok", "messages: 2 (backup: 2) ok", "indexed: 1"):
        assert line in done.stdout
    hits = json.loads(run_hearth("memory", "search", "where do I live", "--json", env=env).stdout)
    assert hits[0]["text"] == "I live in Lisbon"
    messages = json.loads(run_hearth("logs", "list", "--json", env=env).stdout)
    assert sorted(m["text"] for m in messages) == [
        "How are you finding it?",
        "I moved to Lisbon last spring.",
    ]
    again = run_hearth("restore", str(folder), env=env)
    assert again.returncode == 19 and "--force" in again.stderr


def test_restore_refuses_a_held_data_dir_and_force_moves_files_aside(
    paths: Paths, tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    folder = tmp_path / "backup"
    backup(paths, folder)
    with pytest.raises(DataDirLockedError):
        restore(paths, Settings(), folder, force=True)
    holder.kill()
    holder.wait()
    with pytest.raises(BackupError, match="already holds 1 sessions, 2 messages, 1 memories"):
        restore(paths, Settings(), folder, force=False)
    report = restore(paths, Settings(), folder, force=True)
    assert report.ok and report.moved_aside is not None
    assert (report.moved_aside / "journal.sqlite3").exists()
    assert [(c.name, c.found) for c in report.counts] == [
        ("sessions", 1),
        ("messages", 2),
        ("memories", 1),
        ("indexed", 1),
    ]
    assert diagnose(paths).healthy


def test_restore_says_which_count_differs(paths: Paths, tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    backup(paths, folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["counts"]["messages"] = 3
    (folder / MANIFEST).write_text(json.dumps(manifest))
    other = tmp_path / "other"
    target = Paths(config_file=other / "config.toml", data_dir=other, models_dir=other / "m")
    with pytest.raises(RestoreError, match=r"holds messages 2 \(manifest: 3\)"):
        restore(target, Settings(), folder, force=False)
    assert sorted(p.name for p in other.iterdir()) == ["hearth.lock"]  # nothing restored


def test_a_damaged_index_is_found_and_rebuilt(paths: Paths) -> None:
    chroma_db = paths.chroma_dir / "chroma.sqlite3"
    chroma_db.write_bytes(b"not a database at all" * 512)
    ok, detail, fix = by_name(diagnose(paths))["index"]
    assert not ok and "cannot be read" in detail and "rebuilds the index" in fix
    assert any("rebuilt the index" in line for line in repair(diagnose(paths), paths))
    assert diagnose(paths).healthy


def test_low_disk_and_an_empty_journal_are_problems(paths: Paths) -> None:
    low = health.disk(paths.data_dir, minimum=1 << 62)
    assert not low.ok and "MB free" in low.detail and "free some space" in low.fix
    # Empty while no memory cites it: `say` starts it afresh, and doctor agrees.
    paths.journal.write_bytes(b"")
    ok, detail, _ = by_name(diagnose(paths))["journal"]
    assert ok and "empty (0 bytes) and no memory cites it" in detail


def test_backup_and_restore_refuse_what_they_cannot_do(tmp_path: Path, hearth_home: Path) -> None:
    empty = resolve_paths()
    with pytest.raises(BackupError, match="nothing to back up"):
        backup(empty, tmp_path / "b")
    (tmp_path / "not-a-backup").mkdir()
    with pytest.raises(BackupError, match="not a Hearth backup"):
        restore(empty, Settings(), tmp_path / "not-a-backup", force=False)


WRITER = """
import sys
from pathlib import Path
from memory.journal.journal import Journal

journal = Journal(Path(sys.argv[1]))
session = journal.create_session("busy")
parent = None
for n in range(100000):
    parent = journal.append(session.id, "user", f"message {n} " + "x" * 2000, parent_id=parent).id
    if n == 20:
        print("writing", flush=True)
"""


def test_a_backup_made_while_a_chat_writes_is_consistent(paths: Paths, tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(paths.journal)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        manifest = backup(paths, tmp_path / "busy")
        assert writer.poll() is None  # the copy was made while messages kept arriving
    finally:
        writer.kill()
        writer.wait()
    copy = sqlite3.connect(tmp_path / "busy" / "journal.sqlite3")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = copy.execute("SELECT count(*) FROM messages").fetchone()[0]
        heads = copy.execute("SELECT count(*) FROM sessions WHERE head_id IS NOT NULL").fetchone()
    finally:
        copy.close()
    assert manifest.counts["messages"] == stored > 2 + 20 and heads[0] == 2


def test_a_killed_servers_leftovers_are_named_and_removed(paths: Paths) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True)  # fmt: skip
    paths.serve_address.write_text(
        json.dumps({"url": "http://127.0.0.1:9", "pid": int(gone.stdout)})
    )
    (paths.data_dir / "hearth.sock").touch()
    ok, detail, fix = by_name(diagnose(paths))["leftovers"]
    assert not ok and "serve.json, hearth.sock left by a Hearth that was killed" in detail
    assert "doctor --fix" in fix
    assert any("removed hearth.sock, serve.json" in line for line in repair(diagnose(paths), paths))
    assert not paths.serve_address.exists() and not (paths.data_dir / "hearth.sock").exists()
    assert by_name(diagnose(paths))["leftovers"][0]


def test_a_broken_chat_template_and_a_persona_past_the_window_are_found(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_MODEL__CHAT_TEMPLATE", "{% for m in messages %}{{ m.content }")
    ok, detail, fix = by_name(diagnose(paths))["template"]
    assert not ok and "not valid Jinja" in detail and "model.chat_template" in fix
    monkeypatch.setenv(
        "HEARTH_MODEL__CHAT_TEMPLATE",
        "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
    )
    assert by_name(diagnose(paths))["template"][0]

    monkeypatch.setenv("HEARTH_MODEL__N_CTX", "512")
    monkeypatch.setenv("HEARTH_CHAT__PERSONA", "You are kind and patient. " * 120)
    ok, detail, fix = by_name(diagnose(paths))["persona"]
    assert not ok and "by the model's tokenizer" in detail and "shorten chat.persona" in fix
    # More bytes than the room, fewer tokens: counted, and it fits.
    monkeypatch.setenv("HEARTH_CHAT__PERSONA", "You are kind. " * 15)
    ok, detail, _ = by_name(diagnose(paths))["persona"]
    assert ok and "tokens of" in detail


def test_config_show_refuses_a_broken_chat_template_without_llama_cpp(tmp_path: Path) -> None:
    modules = tmp_path / "modules.txt"
    code = (
        "import sys; sys.argv = ['hearth', 'config', 'show']\n"
        "from tui.cli import main as cli\n"
        "try:\n    cli.main()\nfinally:\n"
        f"    open({str(modules)!r}, 'w').write('\\n'.join(sys.modules))"
    )
    env = {**os.environ, "HEARTH_MODEL__CHAT_TEMPLATE": "{% if %}", "HEARTH_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 3, done.stderr
    assert "model.chat_template is not valid Jinja" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "llama_cpp" not in modules.read_text().split()
