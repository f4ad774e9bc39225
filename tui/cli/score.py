"""`hearth score`: each reply's log-probability with and without the notes recalled for it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.text import Text

from agent.access import opened
from tui.cli.options import JsonOpt, SessionOpt, SinceOpt, as_local
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from agent.face import Memory, MemoryStore
    from agent.scoring import Recalled


def _getter(store: MemoryStore) -> Recalled:
    from memory.errors import NotFoundError

    def get(memory_id: str) -> tuple[Memory, list[str]] | None:
        try:
            memory = store.get(memory_id)
        except NotFoundError:
            return None
        earlier = [e.text for e in store.history(memory_id) if e.text]
        return memory, list(dict.fromkeys([memory.text, *earlier]))

    return get


def score(
    session: SessionOpt = None,
    since: SinceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score each reply: its mean log-probability under the current model given the prompt
    it saw, without the notes recalled for it, and without each of its first three notes
    (`hearth memory show` then says which memories the model leans on). Kept in the journal;
    replies this model has scored are skipped, so a second run, or one after Ctrl-C, goes on
    where the last stopped. The chat may stay open: this loads its own copy of the model."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from agent.access import read_store
    from agent.runtime.backend import scoring_instance
    from agent.scoring import ScoreReport, scorable, score_replies, window
    from agent.startup import measuring_model

    start = as_local(since)
    with opened(write=True) as here:
        home = here.home
        what = "hearth score (each reply's log-probability)"
        resolved, sha = measuring_model(home, what, session)
        replies = scorable(home.journal, session_id=session, since=start)
        done = home.journal.scored_ids(sha)
        pending = [r for r in replies if r.id not in done]
        scored: list[int] = []
        skipped: list[int] = []
        rows = 0
        load_s = seconds = 0.0
        if pending:
            loading = time.perf_counter()
            settings = home.settings.model
            n_ctx = min(window(pending, settings.n_ctx), settings.n_ctx)
            with scoring_instance(resolved.path, settings, n_ctx, home.paths.log_file) as scorer:
                store = read_store(home, verify_embedder=False)
                load_s = time.perf_counter() - loading
                columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
                try:
                    started = time.perf_counter()
                    with Progress(*columns, console=err, transient=True) as bar:
                        task = bar.add_task(f"scoring ({escape(scorer.name)})", total=len(pending))
                        scored, skipped, rows = score_replies(
                            home.journal,
                            scorer,
                            pending,
                            _getter(store),
                            sha,
                            advance=lambda: bar.advance(task),
                        )
                    seconds = time.perf_counter() - started
                finally:
                    store.close()
    by_other = {r.id for r in pending if r.model is None or r.model.sha256 != sha}
    report = ScoreReport(
        model=resolved.path.name,
        model_sha256=sha,
        scored=len(scored),
        done_before=len(replies) - len(pending),
        other_model=len(by_other & set(scored)),
        skipped=skipped,
        rows=rows,
        load_s=round(load_s, 3),
        seconds=round(seconds, 3),
        per_reply_s=round(seconds / len(scored), 3) if scored else None,
    )
    if as_json:
        print_json(report.model_dump())
        return
    per = f", {report.per_reply_s:.2f} s a reply" if report.per_reply_s is not None else ""
    out.print(
        Text(
            f"scored {report.scored} reply(ies) with {report.model} ({report.done_before} "
            f"scored before, {report.other_model} written by another model){per}"
            + (f"; too long to score: {', '.join(map(str, skipped))}" if skipped else "")
        ),
        soft_wrap=True,
    )
