"""The vector index on a real Chroma server (`chroma run` on 127.0.0.1): memory.chroma = URL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from memory import health
from memory.datadir import ensure_data_dir
from memory.graph import chroma_server
from memory.graph.db import MemoryDB
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import Memory, NewMemory
from memory.graph.store import MemoryStore
from memory.graph.vector_index import COLLECTION
from memory.settings import MemorySettings, Paths, Settings
from tests.conftest import RunHearth

# The memory-store tests that take a `store` run here once more, on the server's store below.
from tests.test_memory_store import (  # noqa: F401
    FACTS,
    test_edit_reembeds_and_keeps_each_version_in_history,
    test_forgetting_takes_a_persons_names_with_it,
    test_rebuild_without_reembedding_gives_the_same_results,
    test_search_respects_k_kinds_and_a_token_budget,
    test_search_returns_the_memory_that_answers,
    test_supersede_keeps_history_and_recalls_the_new_fact,
    top_texts,
)

CHROMA = Path(sys.executable).with_name("chroma")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free port of 127.0.0.1, its files in a temp dir, for this module."""
    folder = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    # Chroma's Rust server sends nothing unless an OpenTelemetry endpoint is configured; none is.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["ANONYMIZED_TELEMETRY"] = "False"
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(folder / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"chroma run did not start: {(folder / 'server.log').read_text()}"
                )
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def on(url: str) -> Settings:
    return Settings(memory=MemorySettings(chroma=url))


def make_paths(root: Path) -> Paths:
    paths = Paths(config_file=root / "config.toml", data_dir=root, models_dir=root / "models")
    ensure_data_dir(paths.data_dir)
    return paths


def server_ids(paths: Paths, url: str) -> set[str]:
    """The ids in this data dir's collection, read from the server directly."""
    where = chroma_server.place(paths, MemorySettings(chroma=url), create=False)
    assert where is not None
    client = chroma_server.connect(where)
    try:
        names = [c.name for c in client.list_collections()]
        if COLLECTION not in names:
            return set()
        return set(client.get_collection(COLLECTION).get(include=[])["ids"])
    finally:
        client.close()


@pytest.fixture
def store(paths: Paths, embedder: SentenceEmbedder, server: str) -> Iterator[MemoryStore]:
    """The store of this test's data dir with its index on the server (the imported tests')."""
    opened = MemoryStore.open(paths, on(server), write=True, embedder=embedder)
    yield opened
    opened.close()
    assert not paths.chroma_dir.exists(), "an index on the server made a chroma/ folder"


def test_a_store_on_the_server_adds_searches_forgets_and_repairs(
    paths: Paths, embedder: SentenceEmbedder, server: str
) -> None:
    with MemoryStore.open(paths, on(server), write=True, embedder=embedder) as store:
        added = {m.text: m.id for m in store.add_many([NewMemory(text=t) for t in FACTS])}
        assert top_texts(store, "what is my pet's name")[0] == "My dog is called Biscuit"
        assert server_ids(paths, server) == set(added.values())
        dog = added["My dog is called Biscuit"]
        report = store.forget(dog)
        assert report.chroma["vectors_removed"] == 1
    assert dog not in server_ids(paths, server)
    assert len(server_ids(paths, server)) == len(FACTS) - 1
    assert not paths.chroma_dir.exists()
    # The server loses one vector and gains a stray: the next open puts it right.
    where = chroma_server.place(paths, MemorySettings(chroma=server), create=False)
    assert where is not None and (paths.chroma_server_id.stat().st_mode & 0o777) == 0o600
    client = chroma_server.connect(where)
    collection = client.get_collection(COLLECTION)
    lisbon = added["I live in Lisbon"]
    collection.delete(ids=[lisbon])
    collection.add(ids=["stray"], embeddings=[[0.1] * embedder.identity.dimension])
    client.close()
    with MemoryStore.open(paths, on(server), write=True, embedder=embedder) as store:
        assert top_texts(store, "where do I live?")[0] == "I live in Lisbon"
    assert server_ids(paths, server) == set(added.values()) - {dog}
    check = health.index(paths, MemorySettings(chroma=server))
    assert check.ok, check.detail


def test_two_data_dirs_on_one_server_never_see_each_other(
    tmp_path: Path, embedder: SentenceEmbedder, server: str
) -> None:
    alice, bob = make_paths(tmp_path / "alice"), make_paths(tmp_path / "bob")
    with MemoryStore.open(alice, on(server), write=True, embedder=embedder) as store:
        alice_ids = {m.id for m in store.add_many([NewMemory(text="My cat is called Miso")])}
    with MemoryStore.open(bob, on(server), write=True, embedder=embedder) as store:
        bob_ids = {m.id for m in store.add_many([NewMemory(text="My cat is called Pepper")])}
        # Bob's search on the shared server finds his own cat only.
        hits = store.search("what is my cat called")
        assert [h.memory.id for h in hits] == list(bob_ids)
        assert store.repair_index() == {"pending": 0, "added": 0, "removed": 0}
    assert server_ids(alice, server) == alice_ids
    assert server_ids(bob, server) == bob_ids
    alice_where = chroma_server.place(alice, MemorySettings(chroma=server), create=False)
    bob_where = chroma_server.place(bob, MemorySettings(chroma=server), create=False)
    assert alice_where is not None and bob_where is not None
    assert alice_where.tenant != bob_where.tenant
    # Rebuilding one (as a forget does) leaves the other's collection alone.
    with MemoryStore.open(alice, on(server), write=True, embedder=embedder) as store:
        store.rebuild()
    assert server_ids(bob, server) == bob_ids


QUERIES = ["where do I live?", "sister", "music lessons", "what do I drink", "my job"]


def results(paths: Paths, settings: Settings, embedder: SentenceEmbedder) -> list[Any]:
    with MemoryStore.open(paths, settings, write=False, embedder=embedder) as store:
        return [[(h.memory.id, round(h.score, 6)) for h in store.search(q)] for q in QUERIES]


def test_migrate_to_the_server_and_back_keeps_every_result(
    paths: Paths, embedder: SentenceEmbedder, server: str, run_hearth: RunHearth
) -> None:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        ids = {m.id for m in store.add_many([NewMemory(text=t) for t in FACTS])}
    before = results(paths, Settings(), embedder)

    there = run_hearth("memory", "migrate", "--to", server, "--json")
    assert there.returncode == 0, there.stderr
    report = json.loads(there.stdout)
    assert report["indexed"] == report["memories"] == len(FACTS)
    assert report["setting"] == f'chroma = "{server}"'
    assert not paths.chroma_dir.exists(), "the embedded copy was kept after the move"
    assert server_ids(paths, server) == ids
    assert results(paths, on(server), embedder) == before

    back = run_hearth(
        "memory", "migrate", "--to", "embedded", env={"HEARTH_MEMORY__CHROMA": server}
    )
    assert back.returncode == 0, back.stderr
    assert 'chroma = "embedded"' in back.stdout
    assert f"deleted this data dir's collection on {server}" in back.stdout
    assert server_ids(paths, server) == set()
    assert results(paths, Settings(), embedder) == before


def test_an_unreachable_server_is_one_line_and_leaves_sqlite_alone(
    paths: Paths, embedder: SentenceEmbedder, run_hearth: RunHearth
) -> None:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add("I live in Lisbon")
    before = paths.memory_db.read_bytes()
    gone = f"http://127.0.0.1:{_free_port()}"
    for args in (("memory", "add", "My dog is called Biscuit"), ("memory", "search", "Lisbon")):
        done = run_hearth(*args, env={"HEARTH_MEMORY__CHROMA": gone})
        assert done.returncode == 22, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and gone in lines[0] and 'memory.chroma = "embedded"' in lines[0]
        assert "Traceback" not in done.stderr
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        assert [m.text for m in store.list()] == ["I live in Lisbon"]
    assert paths.memory_db.read_bytes() == before
    # `hearth doctor` names the server, and says what to do, instead of failing itself.
    assert chroma_server.place(paths, MemorySettings(chroma=gone), create=True) is not None
    check = health.index(paths, MemorySettings(chroma=gone))
    assert not check.ok and gone in check.detail and "memory.chroma" in check.fix
    bad = run_hearth("memory", "list", env={"HEARTH_MEMORY__CHROMA": "chroma.example:8000"})
    assert bad.returncode == 3 and "memory.chroma" in bad.stderr


def test_forget_on_a_server_says_its_files_keep_bytes_until_it_compacts(
    paths: Paths, embedder: SentenceEmbedder, server: str, run_hearth: RunHearth
) -> None:
    with MemoryStore.open(paths, on(server), write=True, embedder=embedder) as store:
        first, second = (m.id for m in store.add_many([NewMemory(text=t) for t in FACTS[:2]]))
    env = {"HEARTH_MEMORY__CHROMA": server}
    done = run_hearth("memory", "forget", first, env=env)
    assert done.returncode == 0, done.stderr
    assert f"forgotten on the server at {server} too" in done.stdout
    assert "until it compacts" in done.stdout
    assert server_ids(paths, server) == {second}

    where = chroma_server.place(paths, MemorySettings(chroma=server), create=False)
    assert where is not None
    everything = run_hearth("memory", "forget", "--everything", "--yes", env=env)
    assert everything.returncode == 0, everything.stderr
    assert "deleted this data dir's index on the Chroma server" in everything.stdout
    assert not paths.chroma_server_id.exists()
    client = chroma_server.connect(where)
    try:
        assert COLLECTION not in [c.name for c in client.list_collections()]
    finally:
        client.close()


def test_a_write_that_reached_sqlite_but_not_the_server_is_replayed_at_open(
    paths: Paths, embedder: SentenceEmbedder, server: str
) -> None:
    with MemoryStore.open(paths, on(server), write=True, embedder=embedder) as store:
        ids = {m.id for m in store.add_many([NewMemory(text=t) for t in FACTS])}
    # What a server that went away mid-write leaves: the row and its pending mark, no vector.
    db = MemoryDB(paths.memory_db)
    orphan = Memory(
        id="m_crashed00001", kind="fact", text="I speak Finnish", learned_at=datetime.now(UTC)
    )
    with db.tx() as tx:
        db.insert(tx, orphan, embedder.embed([orphan.text])[0])
    db.close()
    assert orphan.id not in server_ids(paths, server)
    with MemoryStore.open(paths, on(server), write=True, embedder=embedder) as store:
        assert top_texts(store, "which languages do I speak")[0] == "I speak Finnish"
    assert server_ids(paths, server) == ids | {orphan.id}


def test_a_restore_fills_a_new_tenant_and_leaves_the_original_alone(
    paths: Paths, embedder: SentenceEmbedder, server: str, run_hearth: RunHearth, tmp_path: Path
) -> None:
    with MemoryStore.open(paths, on(server), write=True, embedder=embedder) as store:
        ids = {m.id for m in store.add_many([NewMemory(text=t) for t in FACTS])}
    env = {"HEARTH_MEMORY__CHROMA": server}
    made = run_hearth("backup", str(tmp_path / "backup"), env=env)
    assert made.returncode == 0, made.stderr
    other = tmp_path / "other"
    restored = run_hearth(
        "restore", str(tmp_path / "backup"), "--json", env={**env, "HEARTH_HOME": str(other)}
    )
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["ok"]
    other_paths = make_paths(other)
    assert server_ids(other_paths, server) == ids
    assert other_paths.chroma_server_id.read_text() != paths.chroma_server_id.read_text()
    assert not other_paths.chroma_dir.exists()
    assert server_ids(paths, server) == ids
