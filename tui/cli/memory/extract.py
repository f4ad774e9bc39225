"""`hearth memory extract`: learn from the history with the chosen extractor."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text

from agent.access import opened
from tui.cli.options import DATE_FORMATS, JsonOpt, as_local
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from agent.learn.write_path import Extractor
    from agent.startup import Home


def memory_extract(
    since: Annotated[
        datetime,
        typer.Option(
            "--since",
            formats=DATE_FORMATS,
            help="Read your messages from this date (local time) on.",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Learn from history: run the memory extractor (memory.extractor; `hearth models info`
    says which) over your messages since a date, through the same write path as a chat. A
    message the extractor has read is skipped, so a second run, or one after Ctrl-C, goes on
    where the last stopped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from agent.learn.history import HistoryReport, extract_history, todo
    from agent.learn.history import since as messages_since

    start = as_local(since)
    with opened(write=True, store=True) as here:
        home, store = here.home, here.memory
        messages = messages_since(home.journal, start)
        extract, tag = _extractor(home)
        pending = todo(messages, tag)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(f"extracting ({escape(tag)})", total=len(pending))
            changed = extract_history(
                home.journal,
                store,
                pending,
                extract=extract,
                tag=tag,
                user_name=home.settings.chat.user_name,
                advance=lambda: bar.advance(task),
            )
    report = HistoryReport(
        extractor=tag, read=len(pending), done_before=len(messages) - len(pending), changed=changed
    )
    if as_json:
        print_json(report.model_dump())
        return
    out.print(
        Text(
            f"read {report.read} message(s) with the {tag} extractor "
            f"({report.done_before} read before), {len(changed)} memory(ies) added or changed"
        ),
        soft_wrap=True,
    )


def _extractor(home: Home) -> tuple[Extractor, str]:
    """The extractor memory.extractor chooses for the model Hearth would load, and its tag."""
    from agent.learn.choice import choose
    from agent.learn.extract import extract as rules
    from agent.learn.model_extract import ModelExtractor
    from agent.runtime.backend import LlamaBackend, require_local
    from agent.runtime.gguf import read_info
    from agent.runtime.native_log import stderr_to
    from agent.startup import pick_model

    setting = home.settings.memory.extractor
    if setting == "model":
        require_local(home.settings.model, 'memory.extractor = "model"')
    if setting == "rules" or home.settings.model.backend != "llama-cpp":
        return rules, "rules"
    resolved = pick_model(home)
    choice = choose(setting, resolved.path, read_info(resolved.path).parameters, home.paths)
    err.print(Text(f"memory extractor: {choice.line()}"), soft_wrap=True)
    if choice.use == "rules":
        return rules, "rules"
    with stderr_to(home.paths.log_file):
        backend = LlamaBackend(resolved.path, home.settings.model)
    # Its own instance, no chat on it: nothing to keep in its cache.
    return ModelExtractor(backend, keep_cache=False), f"model:{backend.path.name}"
