"""SillyTavern's chat files (.jsonl): a header line, then one message a line, each AI message
with its swipes (the versions it was regenerated into), `mes` the one kept."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePosixPath

from agent.importing.files import ExportFile
from agent.importing.formats.shape import Record, parse_time
from agent.importing.threads import REFUSED, Node, Thread, finish
from memory.errors import DatasetError

# "2023-6-11 @15h 55m 23s 123ms" (the file names' and newer messages' form).
_STAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2}) ?@(\d{1,2})h ?(\d{1,2})m ?(\d{1,2})s(?: ?(\d+)ms)?"
)
# "June 11, 2023 3:55pm" (older messages' humanized form).
_HUMAN = ("%B %d, %Y %I:%M%p", "%B %d, %Y %I:%M %p", "%b %d, %Y %I:%M%p", "%b %d, %Y %I:%M %p")


def send_date(value: object) -> datetime | None:
    """A SillyTavern time: humanized, "@h m s ms", ISO or epoch milliseconds. All but the
    last are the writer's local time without a zone: read as this machine's local time."""
    if isinstance(value, int | float):
        return parse_time(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    found = _STAMP.fullmatch(text)
    if found:
        y, mo, d, h, mi, s, ms = (int(g) if g else 0 for g in found.groups())
        moment: datetime | None = datetime(y, mo, d, h, mi, s, ms * 1000)
    else:
        moment = parse_time(text) or _humanized(text)
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _humanized(text: str) -> datetime | None:
    for form in _HUMAN:
        try:
            return datetime.strptime(text.replace("\u202f", " "), form)
        except ValueError:
            continue
    return None


def _chats(files: Sequence[ExportFile]) -> list[ExportFile]:
    return [f for f in files if f.basename.endswith(".jsonl")]


class SillyTavern:
    """Line 1 `{user_name, character_name, create_date, chat_metadata}`, then `{name,
    is_user, is_system, send_date, mes, extra, swipe_id, swipes, swipe_info}`."""

    name = "sillytavern"
    remembers = False  # role-play is not the person's life: journaled only, unless --remember

    def detect(self, files: Sequence[ExportFile]) -> bool:
        chats = _chats(files)
        if not chats:
            return False
        head = chats[0].peek(65536).split(b"\n", 1)[0]
        return b'"character_name"' in head or b'"user_name"' in head

    def read(self, files: Sequence[ExportFile]) -> list[Thread]:
        chats = _chats(files)
        if not chats:
            raise DatasetError("no SillyTavern chat (.jsonl) there")
        return [_thread(f) for f in chats]


def _lines(file: ExportFile) -> list[tuple[int, Record]]:
    out: list[tuple[int, Record]] = []
    for number, line in enumerate(file.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{file.label}: line {number} is not JSON: {exc}{REFUSED}") from exc
        out.append((number, Record(value, file.label, f"line {number}")))
    if not out:
        raise DatasetError(f"{file.label}: empty, not a SillyTavern chat{REFUSED}")
    return out


def _thread(file: ExportFile) -> Thread:
    lines = _lines(file)
    _n, header = lines[0]
    if "mes" in header.value:
        raise header.refuse("character_name", "missing: the first line is a message, not a header")
    stem = PurePosixPath(file.name).stem
    thread = Thread(
        format="sillytavern",
        id=stem,
        title=stem,
        file=file.label,
        nodes=[],
        created=send_date(header.value.get("create_date")),
    )
    previous: str | None = None
    said = False  # a message before it: swipes of an opening greeting are not versions
    for number, line in lines[1:]:
        kept, nodes = _message(line, number, previous, said)
        thread.nodes.extend(nodes)
        previous = kept
        said = said or any(n.skip is None for n in nodes)
    thread.current = previous
    return finish(thread)


def _message(line: Record, number: int, parent: str | None, said: bool) -> tuple[str, list[Node]]:
    """A line's nodes (a swipe each) and the id of the kept one."""
    text = line.text("mes", None)
    if text is None:
        raise line.refuse("mes", "missing")
    name = line.text("name", "") or None
    when = send_date(line.value.get("send_date"))
    # Hidden messages (/hide) and narrator lines are `is_system`, the person's too.
    hidden = bool(line.get("is_system", bool, False))
    if line.get("is_user", bool, False):
        node = Node(id=str(number), parent=parent, role="user", text=text, time=when, speaker=name)
        node.skip = "hidden or narrator" if hidden else None if text.strip() else "empty"
        return node.id, [node]
    extra = line.get("extra", dict, {})
    swipes = line.get("swipes", list, [])
    chosen = line.get("swipe_id", int, 0)
    if swipes and not 0 <= chosen < len(swipes):
        raise line.refuse("swipe_id", f"{chosen} names no swipe (there are {len(swipes)})")
    infos = line.get("swipe_info", list, [])
    versions = range(len(swipes)) if swipes and said and not hidden else [chosen]
    nodes: list[Node] = []
    for k in versions:
        words = text if k == chosen else swipes[k]
        if not isinstance(words, str):
            raise line.refuse(f"swipes.{k}", f"is {type(words).__name__}, not str")
        info = infos[k] if k < len(infos) and isinstance(infos[k], dict) else {}
        info_extra = info.get("extra") if isinstance(info.get("extra"), dict) else {}
        node = Node(
            id=f"{number}.{k}",
            parent=parent,
            role="assistant",
            text=words,
            time=send_date(info.get("send_date")) if k != chosen else when,
            model=(info_extra or {}).get("model") or extra.get("model"),
            speaker=name,
        )
        node.time = node.time or when
        node.skip = "hidden or narrator" if hidden else None if words.strip() else "empty"
        nodes.append(node)
    return f"{number}.{chosen}", nodes


FORMAT = SillyTavern()
