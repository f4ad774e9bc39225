"""The routes the chat needs of `hearth serve` (agent/serving/routes): versions, regenerate,
edit, rating, sessions, dreams, the memory panel and memory writes. First on the app itself
without a model (the guard, the body limit, reads beside a running turn), then through the
typed client (agent/serving/client.py) against one real `hearth serve` for the module."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from agent.conversation import ACTIONS, Conversation
from agent.serving.api import ROUTERS, Serving, make_app
from agent.serving.client import Client, Remote
from agent.serving.conversation import ServedConversation
from agent.serving.schemas import TurnRequest
from agent.turn_result import TurnResult
from memory.datadir import ensure_data_dir
from memory.errors import DreamError, FeedbackError, HearthError, NotFoundError
from memory.journal.journal import Journal
from memory.journal.schemas import DreamMeta, MessageMeta
from memory.settings import ChatSettings, ServeSettings
from tests.conftest import CLI_MAX_TOKENS
from tests.served import Served, running_server

TOKEN = "t" * 43
CHAT_ROUTES = {
    ("GET", "/api/thread"),
    ("GET", "/api/messages/{message_id}"),
    ("GET", "/api/messages/{message_id}/versions"),
    ("POST", "/api/messages/{message_id}/choose"),
    ("POST", "/api/sessions/{session_id}/head"),
    ("POST", "/api/messages/{message_id}/regenerate"),
    ("POST", "/api/messages/{message_id}/edit"),
    ("POST", "/api/messages/{message_id}/feedback"),
    ("GET", "/api/sessions"),
    ("POST", "/api/sessions"),
    ("PATCH", "/api/sessions/{session_id}"),
    ("DELETE", "/api/sessions/{session_id}"),
    ("POST", "/api/sessions/{session_id}/open"),
    ("POST", "/api/sessions/{session_id}/leave"),
    ("GET", "/api/dreams"),
    ("GET", "/api/dreams/{dream_id}"),
    ("POST", "/api/dreams/{dream_id}/review"),
    ("GET", "/api/messages/{reply_id}/memories"),
    ("PATCH", "/api/memories/{memory_id}"),
    ("POST", "/api/memories/{memory_id}/reject"),
    ("GET", "/api/memories/{memory_id}/history"),
    ("GET", "/api/memories/{memory_id}/links"),
    ("GET", "/api/sessions/{session_id}/versions"),
    ("GET", "/api/understanding"),
}


# -- the app, without a model ----------------------------------------------------------------


def _serving(journal: Journal | None = None, **settings: Any) -> Serving:
    # No model and no memory: an agent of the journal alone (enough for the journal's routes).
    agent = SimpleNamespace(journal=journal, store=None)
    return Serving(
        cast(Any, None), cast(Any, agent), TOKEN, ServeSettings(**settings), threading.Lock()
    )


def _client(serving: Serving, token: str | None = TOKEN) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return TestClient(
        make_app(serving),
        base_url="http://127.0.0.1:8765",
        headers=headers,
        raise_server_exceptions=False,
    )


def _every_route() -> list[tuple[str, str]]:
    """Each (method, path) the app serves."""
    found = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            found += [(method, route.path) for method in sorted(route.methods or ())]
    return found


def test_every_route_of_the_chat_needs_the_token_the_host_and_the_origin() -> None:
    serving = _serving()
    routes = _every_route()
    assert set(routes) >= CHAT_ROUTES
    bare, held = _client(serving, token=None), _client(serving)
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", "1", path)
        no_token = bare.request(method, url, json={})
        assert no_token.status_code == 401, (method, path)
        assert "serve.token" in no_token.json()["error"]["message"]
        page = held.request(method, url, json={}, headers={"Origin": "http://evil.example"})
        assert page.status_code == 403, (method, path)
        assert page.json()["error"]["type"] == "refused"
        rebound = held.request(method, url, json={}, headers={"Host": "evil.example:8765"})
        assert rebound.status_code == 403, (method, path)


def test_a_new_write_past_the_size_limit_is_413_and_changes_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    session = journal.create_session("before")
    client = _client(_serving(journal, max_request_bytes=4096))
    big = "x" * 5000
    for method, path, body in (
        ("PATCH", f"/api/sessions/{session.id}", {"title": big}),
        ("POST", "/api/sessions", {"title": big}),
        ("POST", "/api/messages/1/edit", {"text": big}),
        ("PATCH", "/api/memories/m1", {"text": big}),
        ("POST", "/api/messages/1/feedback", {"note": big}),
    ):
        refused = client.request(method, path, json=body)
        assert refused.status_code == 413, (method, path)
        error = refused.json()["error"]
        assert (
            error["type"] == "request_too_large" and "serve.max_request_bytes" in error["message"]
        )
    assert [s.title for s in journal.sessions()] == ["before"]


def test_reads_go_on_beside_a_running_turn_and_writes_wait_for_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    session = journal.create_session()
    asked = journal.append(session.id, "user", "Hello there")
    journal.append(session.id, "assistant", "Hi!", parent_id=asked.id)
    serving = _serving(journal)
    client = _client(serving)
    renamed: list[Any] = []
    paths = (
        "/api/sessions",
        f"/api/thread?session={session.id}",
        f"/api/messages/{asked.id}",
        f"/api/messages/{asked.id}/versions",
        "/api/dreams",
    )
    read: list[Any] = []  # the test client's responses
    with serving.turns:  # a turn runs
        reader = threading.Thread(target=lambda: read.extend(client.get(p) for p in paths))
        reader.start()
        reader.join(30)
        assert not reader.is_alive(), "a read waited for the running turn"
        assert [r.status_code for r in read] == [200] * len(paths), [r.text for r in read]
        writer = threading.Thread(
            target=lambda: renamed.append(
                client.patch(f"/api/sessions/{session.id}", json={"title": "Greetings"})
            )
        )
        writer.start()
        writer.join(1.0)
        assert writer.is_alive() and journal.session(session.id).title == ""
    writer.join(30)
    assert renamed[0].status_code == 200 and renamed[0].json()["title"] == "Greetings"
    assert journal.session(session.id).title == "Greetings"


# -- through the client, against a real server -----------------------------------------------

SCENARIO = "Do you remember the trip to the coast?"
DREAMT_REPLY = "Yes, the wind was strong that day."
OTHER_SCENARIO = "What did we plan for the spring?"


def _dreams(journal: Journal) -> None:
    """Two dreams, as `hearth dream` journals them (a model run is not what these tests are
    of): one for the routes' test, one for the conversation's."""
    session = journal.create_session("Dreams")
    meta = MessageMeta(synthetic=True, dream=DreamMeta(kind="past_event", memory_ids=["m-1"]))
    for text in (SCENARIO, OTHER_SCENARIO):
        scenario = journal.append(session.id, "user", text, meta=meta, root=True)
        journal.append(session.id, "assistant", DREAMT_REPLY, parent_id=scenario.id, meta=meta)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("chat") / "home"
    ensure_data_dir(home)
    journal = Journal(home / "journal.sqlite3")
    try:
        _dreams(journal)
    finally:
        journal.close()
    with running_server(home, HEARTH_SAMPLING__MAX_TOKENS=str(CLI_MAX_TOKENS)) as served:
        yield served


@pytest.fixture
def client(served: Served) -> Iterator[Client]:
    with Client(Remote(url=served.url, token=served.token)) as found:
        yield found


def _turn(client: Client, text: str, **fields: Any) -> dict[str, Any]:
    return client.turn(TurnRequest(text=text, **({"new": True} | fields)), None)


def test_regenerate_streams_a_new_version_and_one_is_chosen(client: Client, served: Served) -> None:
    first = _turn(client, "Tell me about tea.")
    reply_id, session = first["turn_id"], first["session_id"]
    pieces: list[str] = []
    began: list[int] = []
    again = client.regenerate(reply_id, pieces.append, keep=False, on_session=began.append)
    assert pieces and began == [session]
    assert again.user_turn_id == first["user_turn_id"] and again.turn_id != reply_id
    listed = client.versions(reply_id)
    assert [v.message.id for v in listed.versions] == [reply_id, again.turn_id]
    assert [v.chosen for v in listed.versions] == [False, False]  # the chat chooses by going on
    assert [v.leaf_id for v in listed.versions] == [reply_id, again.turn_id]
    path = client.choose_version(reply_id)
    assert [m.id for m in path.messages][-1] == reply_id
    assert path.messages[-1].versions == [reply_id, again.turn_id]
    assert [v.chosen for v in client.versions(reply_id).versions] == [True, False]
    kept = served.rows("SELECT message_id FROM choices WHERE parent_id=?", first["user_turn_id"])
    assert [r["message_id"] for r in kept] == [reply_id]
    # Kept as it is made (as `hearth regenerate` keeps it), and the session goes on from it.
    third = client.regenerate(reply_id)
    assert client.versions(reply_id).versions[-1].chosen
    assert client.path(session).messages[-1].id == third.turn_id
    with pytest.raises(NotFoundError):
        client.regenerate(10**9)


def test_an_edited_message_is_a_branch_answered_and_the_first_is_browsed_back(
    client: Client,
) -> None:
    first = _turn(client, "My cat is called Tom.")
    session, asked = first["session_id"], first["user_turn_id"]
    pieces: list[str] = []
    edited, result = client.edit(asked, "My cat is called Pip.", pieces.append)
    assert edited.role == "user" and edited.edit_of == asked
    assert result is not None and result.user_turn_id == edited.id and pieces
    path = client.path(session)
    assert [m.id for m in path.messages] == [edited.id, result.turn_id]
    assert path.messages[0].versions == [asked, edited.id]
    branches = client.versions(edited.id)
    assert [(v.message.id, v.leaf_id) for v in branches.versions] == [
        (asked, first["turn_id"]),
        (edited.id, result.turn_id),
    ]
    # The person browses back to the first branch and goes on from it.
    back = client.go_on(session, first["turn_id"], chosen=[first["turn_id"]])
    assert [m.text for m in back.messages] == ["My cat is called Tom.", first["reply"]]
    assert back.head_id == first["turn_id"]
    # A reply's edit is kept as its better version, never answered.
    kept, none = client.edit(first["turn_id"], "Tom is a fine name for a cat.")
    assert none is None and kept.role == "assistant" and kept.edit_of == first["turn_id"]
    assert client.path(session).messages[-1].text == "Tom is a fine name for a cat."
    with pytest.raises(FeedbackError):
        client.edit(asked, "My cat is called Tom.")  # the same words: nothing to edit


def test_a_reply_is_rated_and_noted(client: Client) -> None:
    first = _turn(client, "Say something kind.")
    assert client.rate(first["turn_id"], 1).rating == 1
    noted = client.rate(first["turn_id"], note="Warm.")
    assert (noted.rating, noted.note) == (1, "Warm.")
    shown = client.message(first["turn_id"])
    assert (shown.rating, shown.note) == (1, "Warm.")
    assert client.rate(first["turn_id"], 0).rating == 0
    with pytest.raises(FeedbackError):
        client.rate(first["user_turn_id"], -1)  # a person's message is not rated


def test_sessions_are_listed_opened_renamed_archived_left_and_deleted(
    client: Client, served: Served
) -> None:
    made = client.new_session("Garden plans")
    assert made.title == "Garden plans"
    _turn(client, "Tomatoes need sun.", new=False, session=made.id)
    assert [s.id for s in client.sessions("TOMATOES")] == [made.id]
    assert client.rename_session(made.id, "Vegetables").title == "Vegetables"
    assert client.archive_session(made.id).archived
    assert made.id not in [s.id for s in client.sessions()]
    assert made.id in [s.id for s in client.sessions(archived=True)]
    client.archive_session(made.id, archived=False)
    # Said off the record in a session the chat stays in: shown to it, gone once it leaves.
    other = client.new_session()
    _turn(client, "A plan kept quiet.", new=False, session=other.id, memory=False, stay=True)
    shown = client.path(other.id, off_record=True).messages
    assert [m.text for m in shown][:1] == ["A plan kept quiet."]
    assert client.path(other.id).messages == []
    opened = client.open_session(made.id, leaving=other.id)
    assert opened.session_id == made.id and opened.title == "Vegetables"
    assert opened.messages[0].text == "Tomatoes need sun."
    # Everything in it was said off the record: the session went with it.
    assert not served.rows("SELECT id FROM messages WHERE session_id=?", other.id)
    quiet = _turn(client, "Another quiet one.", memory=False, stay=True)
    assert client.leave_session(quiet["session_id"]) == 2
    assert not served.rows("SELECT id FROM messages WHERE session_id=?", quiet["session_id"])
    assert client.delete_session(made.id) == 2
    with pytest.raises(NotFoundError):
        client.path(made.id)
    assert not served.rows("SELECT id FROM sessions WHERE id=?", made.id)


def test_dreams_are_listed_read_and_reviewed(client: Client) -> None:
    found = [d for d in client.dreams() if d.scenario == SCENARIO]
    assert [(d.reply, d.review) for d in found] == [(DREAMT_REPLY, "pending")]
    one = client.dream(found[0].id)
    assert one.reply_id is not None
    edited = client.review_dream(one.id, "edit", "Yes, and the sea was grey.")
    assert (edited.review, edited.reply, edited.original_reply) == (
        "edited",
        "Yes, and the sea was grey.",
        DREAMT_REPLY,
    )
    assert [d.id for d in client.dreams("edited")] == [one.id]
    assert client.review_dream(one.id, "reject").review == "rejected"
    assert one.id not in [d.id for d in client.dreams("pending")]
    with pytest.raises(DreamError):
        client.regenerate(one.reply_id)  # a dream is reviewed, never answered again
    assert one.session_id not in [s.id for s in client.sessions()]


def test_the_memory_panel_and_the_persons_word_on_a_memory(client: Client) -> None:
    from agent.serving.schemas import MemoryIn

    added = client.add(MemoryIn(text="The person's sister Anouk lives in Lyon."))
    said = _turn(client, "Where does my sister Anouk live?")
    panel = client.recalled(said["turn_id"])
    assert panel.reply_id == said["turn_id"] and panel.memory
    row = next(r for r in panel.rows if r.memory_id == added["id"])
    assert row.section == "recalled" and row.why is not None and row.memory is not None
    assert row.why.id == added["id"]
    changed = client.change_memory(added["id"], text="Anouk lives in Lyon, near the river.")
    assert changed.text == "Anouk lives in Lyon, near the river." and not changed.pinned
    assert client.change_memory(added["id"], pinned=True).pinned
    assert client.change_memory(added["id"], accept=True).importance >= changed.importance
    with pytest.raises(HearthError) as refused:
        client.change_memory(added["id"], text="my password is hunter22x")
    assert refused.value.exit_code == 2 and "secret" in str(refused.value)
    client.reject(added["id"])
    gone = next(r for r in client.recalled(said["turn_id"]).rows if r.memory_id == added["id"])
    assert gone.memory is None
    with pytest.raises(NotFoundError):
        client.show(added["id"])


# -- the chat's conversation over the server (agent/serving/conversation.py) -----------------


@pytest.fixture
def conversation(client: Client) -> ServedConversation:
    found = ServedConversation(client, ChatSettings())
    assert found.memory_state == "loading" and not found.ready
    assert found.latest_session() is None  # not asked before open
    opened = found.open()
    assert opened.where == client.remote.url and found.ready
    assert opened.session == found.latest_session() == client.path(None).session_id
    return found


def _send(conv: ServedConversation, session: int | None, text: str, **kw: Any) -> TurnResult:
    told: list[int] = []
    pieces: list[str] = []
    result = conv.send(
        session,
        text,
        memory=kw.pop("memory", True),
        on_piece=pieces.append,
        stop=kw.pop("stop", threading.Event()),
        on_remembered=lambda *_: None,
        on_session=told.append,
    )
    assert pieces
    assert told == ([result.session_id] if session is None else [])
    return result


def test_the_served_conversation_keeps_to_the_protocol_and_says_what_it_lacks(
    conversation: ServedConversation,
) -> None:
    assert isinstance(conversation, Conversation)
    lacking = {a: conversation.unsupported(a) for a in ACTIONS}
    assert {a for a, why in lacking.items() if why} == {"idle_sleep"}
    assert "idle" in (lacking["idle_sleep"] or "")
    assert not conversation.idle_ready() and not conversation.sleep_when_idle(lambda *_: None)
    assert conversation.memory_state == "open"


def test_the_served_conversation_regenerates_edits_browses_and_goes_on(
    conversation: ServedConversation, served: Served
) -> None:
    conv = conversation
    assert conv.new_session() is None  # the server makes it with the first turn
    first = _send(conv, None, "Tell me about rain.")
    session = first.session_id
    again = conv.regenerate(
        first.user_turn_id, on_piece=lambda _: None, stop=threading.Event(), on_remembered=print
    )
    assert conv.versions(session)[first.turn_id] == [first.turn_id, again.turn_id]
    assert conv.head(session) == again.turn_id
    assert conv.parent_of(first.turn_id) == first.user_turn_id
    assert conv.latest_leaf(first.turn_id) == first.turn_id
    # Swiped back to the first reply and went on from it: it is kept.
    conv.go_on(session, first.turn_id, {first.user_turn_id})
    assert conv.head(session) == first.turn_id
    kept = served.rows("SELECT message_id FROM choices WHERE parent_id=?", first.user_turn_id)
    assert [r["message_id"] for r in kept] == [first.turn_id]
    # An edit of the person's message, answered as the chat answers it.
    edited = conv.edit(first.user_turn_id, "Tell me about snow.")
    assert edited.role == "user" and edited.text == "Tell me about snow."
    answer = conv.regenerate(
        edited.id, on_piece=lambda _: None, stop=threading.Event(), on_remembered=print
    )
    assert [m.id for m in conv.thread(session)] == [edited.id, answer.turn_id]
    assert [m.id for m in conv.thread(session, first.turn_id)] == [
        first.user_turn_id,
        first.turn_id,
    ]
    conv.rate(answer.turn_id, -1)
    conv.note(answer.turn_id, "Too cold.")
    assert conv.thread(session)[-1].rating == -1
    assert conv.note_of(answer.turn_id) == "Too cold."


def test_the_served_conversation_sessions_and_off_the_record(
    conversation: ServedConversation, served: Served
) -> None:
    conv = conversation
    said = _send(conv, None, "The lake froze last night.")
    session = said.session_id
    assert conv.open().session == session  # the latest, where a plain `hearth` goes on
    quiet = _send(conv, session, "Only between us.", memory=False)
    assert quiet.session_id == session and not quiet.memory
    assert [m.text for m in conv.thread(session)][-2] == "Only between us."
    assert conv.leave(session) == 2
    assert [m.id for m in conv.thread(session)] == [said.user_turn_id, said.turn_id]
    conv.rename_session(session, "Winter")
    assert [s.display_title for s in conv.sessions("lake", False)] == ["Winter"]
    conv.archive_session(session, True)
    assert conv.sessions("lake", False) == []
    assert [s.archived for s in conv.sessions("lake", True)] == [True]
    conv.delete_session(session)
    conv.delete_session(session)  # gone already is fine
    assert not served.rows("SELECT id FROM sessions WHERE id=?", session)


def test_a_stopped_served_turn_gives_the_reply_the_server_kept(
    conversation: ServedConversation, served: Served
) -> None:
    stop = threading.Event()
    pieces: list[str] = []

    def piece(text: str) -> None:
        pieces.append(text)
        stop.set()
        conversation.interrupt()

    result = conversation.send(
        None,
        "Count slowly to twenty.",
        memory=True,
        on_piece=piece,
        stop=stop,
        on_remembered=lambda *_: None,
    )
    kept = served.rows("SELECT text, status FROM messages WHERE id=?", result.turn_id)
    assert [(r["text"], r["status"]) for r in kept] == [(result.reply, result.status)]
    assert result.reply.startswith(pieces[0].strip()) or not pieces[0].strip()


def test_the_served_conversation_dreams_and_memory(
    conversation: ServedConversation, client: Client
) -> None:
    conv = conversation
    dream = next(d for d in conv.dreams() if d.scenario == OTHER_SCENARIO)
    assert conv.review_dream(dream.id, "reject", None).review == "rejected"
    assert client.dream(dream.id).review == "rejected"
    memory_id = conv.add_memory("The person's dog Biscuit loves the beach.", "fact", "user")
    assert memory_id in [m.id for m in conv.memories(None)]
    assert memory_id in [m.id for m in conv.search("Biscuit the dog", 5, None)]
    said = _send(conv, None, "Where does Biscuit love to go?")
    panel = conv.reply_memories(said.turn_id)
    assert memory_id in [r.memory_id for r in panel.rows if r.section == "recalled"]
    conv.pin(memory_id, True)  # always in view from now on (never recalled)
    welcome = conv.welcome()
    assert memory_id in [m.id for m in welcome.pinned or []] and (welcome.count or 0) >= 1
    assert conv.edit_memory(memory_id, "Biscuit the dog loves the beach in winter.") == memory_id
    conv.accept(memory_id)
    detail = conv.memory(memory_id)
    assert detail.memory.text == "Biscuit the dog loves the beach in winter."
    assert {"add", "edit", "accept"} <= {e.action for e in detail.history}
    assert conv.flagged([memory_id]) == []
    with pytest.raises(HearthError) as refused:
        conv.add_memory("my password is hunter22x", "fact", "user")
    assert refused.value.exit_code == 2
    conv.reject(memory_id)
    assert memory_id not in [m.id for m in conv.memories(None)]
    assert conv.understanding() == []
