"""Small invented exports in the exact shapes ChatGPT, Claude, SillyTavern, Open WebUI and llm
write them, for the import tests."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC).timestamp()
INSTRUCTIONS = ("I am a nurse in Leeds.", "Answer briefly.")


def _gpt_message(
    mid: str,
    role: str,
    parts: list[Any] | None,
    at: float | None,
    *,
    kind: str = "text",
    hidden: bool = False,
    model: str | None = None,
    recipient: str = "all",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    content: dict[str, Any] = {"content_type": kind, **(extra or {})}
    if parts is not None:
        content["parts"] = parts
    metadata: dict[str, Any] = {}
    if hidden:
        metadata["is_visually_hidden_from_conversation"] = True
    if model:
        metadata["model_slug"] = model
    return {
        "id": mid,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": at,
        "update_time": None,
        "content": content,
        "status": "finished_successfully",
        "end_turn": True,
        "weight": 1.0,
        "metadata": metadata,
        "recipient": recipient,
        "channel": None,
    }


def chatgpt_conversation(cid: str = "c-trip", *, later: bool = False) -> dict[str, Any]:
    """A trip planned with ChatGPT: hidden system and custom-instruction nodes, a regenerated
    reply, an edited question, a tool call, a reply split over two nodes, a voice message.
    `later`: the same conversation exported again after one more exchange."""
    nodes: list[tuple[str, str | None, dict[str, Any] | None]] = [
        ("root", None, None),
        ("sys", "root", _gpt_message("sys", "system", [""], None, hidden=True)),
        (
            "ctx",
            "sys",
            _gpt_message(
                "ctx",
                "user",
                None,
                None,
                kind="user_editable_context",
                hidden=True,
                extra={"user_profile": INSTRUCTIONS[0], "user_instructions": INSTRUCTIONS[1]},
            ),
        ),
        ("u1", "ctx", _gpt_message("u1", "user", ["I am planning a trip to Lisbon in May."], T0)),
        ("a1", "u1", _gpt_message("a1", "assistant", ["Lisbon in May is lovely."], T0 + 5,
                                  model="gpt-4o")),
        ("a1b", "u1", _gpt_message("a1b", "assistant", ["May is a fine time; book early."],
                                   T0 + 60, model="gpt-4o")),
        ("u2", "a1b", _gpt_message("u2", "user", ["What should I pack?"], T0 + 120)),
        ("a2", "u2", _gpt_message("a2", "assistant", ["Light layers."], T0 + 125,
                                  model="gpt-4o")),
        ("u2b", "a1b", _gpt_message("u2b", "user", ["What should I pack for rain?"], T0 + 180)),
        ("t1", "u2b", _gpt_message("t1", "assistant", ["print('rain')"], T0 + 181, kind="code",
                                   recipient="python", model="gpt-4o")),
        ("tool1", "t1", _gpt_message("tool1", "tool", None, T0 + 182, kind="execution_output",
                                     extra={"text": "rain"})),
        ("a3", "tool1", _gpt_message("a3", "assistant", ["Pack a light raincoat."], T0 + 183,
                                     model="gpt-4o")),
        ("a4", "a3", _gpt_message("a4", "assistant", ["And comfortable shoes."], T0 + 184,
                                  model="gpt-4o")),
        ("u3", "a4", _gpt_message("u3", "user", [
            {"content_type": "audio_transcription", "text": "Thanks, that helps a lot."},
            {"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"},
        ], T0 + 240, kind="multimodal_text")),
        ("a5", "u3", _gpt_message("a5", "assistant", ["You are welcome!"], T0 + 245)),
    ]  # fmt: skip
    if later:
        nodes += [
            ("u4", "a5", _gpt_message("u4", "user", ["My flight leaves at noon."], T0 + 9000)),
            ("a6", "u4", _gpt_message("a6", "assistant", ["Arrive by ten."], T0 + 9005)),
        ]
    children: dict[str, list[str]] = {}
    for key, parent, _m in nodes:
        if parent is not None:
            children.setdefault(parent, []).append(key)
    mapping = {
        key: {"id": key, "message": m, "parent": parent, "children": children.get(key, [])}
        for key, parent, m in nodes
    }
    return {
        "title": "Trip to Lisbon",
        "create_time": T0 - 1,
        "update_time": T0 + (9005 if later else 245),
        "mapping": mapping,
        "moderation_results": [],
        "current_node": "a6" if later else "a5",
        "plugin_ids": None,
        "conversation_id": cid,
        "default_model_slug": "gpt-4o-mini",
        "id": cid,
    }


def chatgpt_small(cid: str, text: str, at: float) -> dict[str, Any]:
    """A second, one-exchange conversation (for the split export)."""
    nodes = {
        "r": {"id": "r", "message": None, "parent": None, "children": ["q"]},
        "q": {"id": "q", "message": _gpt_message("q", "user", [text], at), "parent": "r",
              "children": ["a"]},
        "a": {"id": "a", "message": _gpt_message("a", "assistant", ["Noted."], at + 1),
              "parent": "q", "children": []},
    }  # fmt: skip
    return {"id": cid, "title": None, "create_time": at, "update_time": at + 1,
            "mapping": nodes, "current_node": "a", "default_model_slug": "gpt-4"}  # fmt: skip


def write_chatgpt_split(folder: Path) -> Path:
    """A large account's export: conversations-000.json, -001.json and the index, zipped too."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conversations-000.json").write_text(json.dumps([chatgpt_conversation()]))
    second = [chatgpt_small("c-bike", "I fixed my bike brakes today.", T0 + 86400)]
    (folder / "conversations-001.json").write_text(json.dumps(second))
    index = {"files": ["conversations-000.json", "conversations-001.json"]}
    (folder / "conversations.json.index").write_text(json.dumps(index))
    (folder / "chat.html").write_text("<html></html>")
    archive = folder.parent / f"{folder.name}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(folder.iterdir()):
            z.write(file, file.name)
    return archive


CLAUDE_ROOT = "00000000-0000-4000-8000-000000000000"


def _claude_message(
    uid: str, sender: str, blocks: list[dict[str, Any]], at: str, parent: str | None, **more: Any
) -> dict[str, Any]:
    message = {
        "uuid": uid,
        "text": "",
        "content": blocks,
        "sender": sender,
        "created_at": at,
        "updated_at": at,
        "attachments": [],
        "files": [],
        **more,
    }
    if parent is not None:
        message["parent_message_uuid"] = parent
    return message


def claude_export() -> list[dict[str, Any]]:
    """A tree conversation with an abandoned regeneration, and an older, flat one."""
    text = [{"type": "text", "text": "My sourdough starter smells like acetone."}]
    tree = [
        _claude_message(
            "h1", "human", text, "2024-06-01T08:00:00.000000Z", CLAUDE_ROOT,
            attachments=[{"file_name": "notes.txt", "file_type": "txt", "file_size": 17,
                          "extracted_content": "Fed daily at 9am."}],
            files=[{"file_name": "photo.jpg"}],
        ),
        _claude_message("a1", "assistant", [
            {"type": "thinking", "thinking": "Hungry starter."},
            {"type": "text", "text": "It is hungry; feed it more often."},
        ], "2024-06-01T08:00:05.000000Z", "h1"),
        _claude_message("a1b", "assistant", [{"type": "text", "text": "Feed it twice a day."}],
                        "2024-06-01T08:01:00.000000Z", "h1"),
        _claude_message("h2", "human", [{"type": "text", "text": "Thanks, I will try that."}],
                        "2024-06-01T08:02:00.000000Z", "a1b"),
        _claude_message("a2", "assistant", [
            {"type": "tool_use", "name": "search", "input": {}},
            {"type": "tool_result", "content": []},
            {"type": "text", "text": "Good luck with the bake!"},
        ], "2024-06-01T08:02:05.000000Z", "h2"),
    ]  # fmt: skip
    flat = [
        {"uuid": "f1", "text": "Remind me: my sister is Zoe.", "sender": "human",
         "created_at": "2023-01-05T20:00:00Z", "updated_at": "2023-01-05T20:00:00Z",
         "attachments": [], "files": []},
        {"uuid": "f2", "text": "Noted: your sister is Zoe.", "sender": "assistant",
         "created_at": "2023-01-05T20:00:03Z", "updated_at": "2023-01-05T20:00:03Z",
         "attachments": [], "files": []},
    ]  # fmt: skip
    return [
        {"uuid": "k-bread", "name": "Sourdough help", "summary": "", "created_at":
         "2024-06-01T07:59:00Z", "updated_at": "2024-06-01T08:02:05Z",
         "account": {"uuid": "acc"}, "chat_messages": tree},
        {"uuid": "k-old", "name": "", "created_at": "2023-01-05T20:00:00Z",
         "updated_at": "2023-01-05T20:00:03Z", "account": {"uuid": "acc"}, "chat_messages": flat},
    ]  # fmt: skip


def sillytavern_chat(*, more: bool = False) -> list[dict[str, Any]]:
    """A chat with a swiped greeting, a reply with two swipes of two models, a narrator line,
    in every date form SillyTavern has written."""
    lines: list[dict[str, Any]] = [
        {"user_name": "Ana", "character_name": "Seraphina",
         "create_date": "2023-6-11 @15h 55m 23s 123ms", "chat_metadata": {"integrity": "x"}},
        {"name": "Seraphina", "is_user": False, "is_system": False,
         "send_date": "June 11, 2023 3:55pm", "mes": "Welcome, traveller.", "extra": {},
         "swipe_id": 1, "swipes": ["Hello there.", "Welcome, traveller."], "swipe_info": []},
        {"name": "Ana", "is_user": True, "is_system": False,
         "send_date": "2023-6-11 @15h 56m 01s 5ms", "mes": "I adopted a dog named Biscuit.",
         "extra": {}},
        {"name": "Seraphina", "is_user": False, "is_system": False,
         "send_date": "2023-06-11T15:57:00", "mes": "What a lovely name!",
         "extra": {"api": "openai", "model": "gpt-3.5-turbo"}, "swipe_id": 0,
         "swipes": ["What a lovely name!", "Biscuit is a sweet name."],
         "swipe_info": [
             {"send_date": "2023-06-11T15:57:00", "extra": {"api": "openai",
                                                            "model": "gpt-3.5-turbo"}},
             {"send_date": 1686499080000, "extra": {"api": "claude", "model": "claude-2"}},
         ]},
        {"name": "System", "is_user": False, "is_system": True, "send_date": 1686499200000,
         "mes": "[The sun sets over the forest.]", "extra": {}},
        {"name": "Ana", "is_user": True, "is_system": False, "send_date": 1686499260000,
         "mes": "Goodnight.", "extra": {}},
    ]  # fmt: skip
    if more:
        lines.append(
            {"name": "Seraphina", "is_user": False, "is_system": False,
             "send_date": 1686499300000, "mes": "Sleep well, Ana.", "extra": {"model": "x"},
             "swipe_id": 0, "swipes": ["Sleep well, Ana."], "swipe_info": []}
        )  # fmt: skip
    return lines


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def openwebui_export() -> list[dict[str, Any]]:
    """A question sent to two models at once (parallel answers), then one more exchange."""
    at = 1717200000
    messages = {
        "m1": {"id": "m1", "parentId": None, "childrenIds": ["m2", "m3"], "role": "user",
               "content": "Name a good hiking trail near Oslo.", "timestamp": at,
               "models": ["llama3", "mistral"]},
        "m2": {"id": "m2", "parentId": "m1", "childrenIds": [], "role": "assistant",
               "content": "Try Vettakollen.", "model": "llama3", "modelName": "Llama 3",
               "timestamp": at + 5},
        "m3": {"id": "m3", "parentId": "m1", "childrenIds": ["m4"], "role": "assistant",
               "content": "The Sognsvann loop is easy.", "model": "mistral",
               "modelName": "Mistral", "timestamp": at + 6},
        "m4": {"id": "m4", "parentId": "m3", "childrenIds": ["m5"], "role": "user",
               "content": "Thanks! I love lakes.", "timestamp": at + 60, "models": ["mistral"]},
        "m5": {"id": "m5", "parentId": "m4", "childrenIds": [], "role": "assistant",
               "content": "Enjoy the walk.", "model": "mistral", "modelName": "Mistral",
               "timestamp": at + 65},
    }  # fmt: skip
    linear = [messages[k] for k in ("m1", "m3", "m4", "m5")]
    return [
        {"id": "w-hike", "user_id": "u1", "title": "Hiking near Oslo",
         "chat": {"id": "", "title": "Hiking near Oslo", "models": ["llama3", "mistral"],
                  "history": {"messages": messages, "currentId": "m5"}, "messages": linear,
                  "timestamp": at * 1000},
         "updated_at": at + 65, "created_at": at, "share_id": None, "archived": False,
         "pinned": False, "meta": {}, "folder_id": None},
    ]  # fmt: skip


def write_llm_db(path: Path, *, old: bool = False) -> Path:
    """An llm logs.db: conversations, responses and fragments (or, `old`, a `logs` table)."""
    db = sqlite3.connect(path)
    try:
        if old:
            db.execute(
                "CREATE TABLE logs (id INTEGER PRIMARY KEY, model TEXT, timestamp TEXT, "
                "prompt TEXT, system TEXT, response TEXT, chat_id INTEGER)"
            )
            db.executemany(
                "INSERT INTO logs VALUES (?,?,?,?,?,?,?)",
                [
                    (1, "gpt-3.5-turbo", "2023-04-01 09:00:00.000000", "I grow tomatoes.",
                     None, "Nice.", None),
                    (2, "gpt-3.5-turbo", "2023-04-01 09:01:00.000000", "And basil.",
                     "Be brief.", "Good pairing.", 1),
                ],
            )  # fmt: skip
        else:
            db.executescript(
                "CREATE TABLE conversations (id TEXT PRIMARY KEY, name TEXT, model TEXT);"
                "CREATE TABLE responses (id TEXT PRIMARY KEY, model TEXT, prompt TEXT,"
                " system TEXT, prompt_json TEXT, options_json TEXT, response TEXT,"
                " response_json TEXT, conversation_id TEXT, duration_ms INTEGER,"
                " datetime_utc TEXT, input_tokens INTEGER, output_tokens INTEGER);"
                "CREATE TABLE fragments (id INTEGER PRIMARY KEY, hash TEXT, content TEXT,"
                " datetime_utc TEXT, source TEXT);"
                'CREATE TABLE prompt_fragments (response_id TEXT, fragment_id INTEGER, "order"'
                " INTEGER);"
            )
            db.execute("INSERT INTO conversations VALUES ('01c', 'Garden questions', 'gpt-4o')")
            db.executemany(
                "INSERT INTO responses (id, model, prompt, system, response, conversation_id,"
                " datetime_utc) VALUES (?,?,?,?,?,?,?)",
                [
                    ("01r1", "gpt-4o", "Summarise my notes.", "You are terse.",
                     "You grow tomatoes.", "01c", "2024-07-01T09:00:00.000000"),
                    ("01r2", "gpt-4o-mini", "What else grows well with them?", None,
                     "Basil.", "01c", "2024-07-01T09:05:00.000000"),
                ],
            )  # fmt: skip
            db.execute("INSERT INTO fragments VALUES (1, 'h', 'Notes: tomatoes.', '', 'n.txt')")
            db.execute("INSERT INTO prompt_fragments VALUES ('01r1', 1, 0)")
        db.commit()
    finally:
        db.close()
    return path
