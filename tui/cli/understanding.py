"""`hearth understanding`: how much less surprising the person is to a Hearth that knows them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from agent.access import opened
from tui.cli.options import JsonOpt, SessionOpt, SinceOpt, as_local
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from agent.understanding import SessionFigures


def plot_sessions(sessions: list[SessionFigures], path: Path, model: str) -> None:
    """Bits per token of each session with and without memory, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: this runs in a terminal
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    # One point per session, in order: sessions days apart and sessions minutes apart alike.
    x = list(range(len(sessions)))
    labels = [f"{s.session_id}\n{s.started.astimezone():%Y-%m-%d}" for s in sessions]
    ax.set_xticks(x, labels, fontsize=7)
    ax.plot(x, [s.bits_alone for s in sessions], marker="o", label="recent conversation alone")
    ax.plot(x, [s.bits_with for s in sessions], marker="o", label="with what Hearth remembered")
    ax.set_ylabel("bits per token (lower: less surprising)")
    ax.set_title(f"How surprising your messages are to {model}", fontsize=10)
    ax.legend()
    ax.set_xlabel("session")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def understanding(
    session: SessionOpt = None,
    since: SinceOpt = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw each session's figures into this PNG file."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """How surprising each of your messages is to the model (bits per token) after the
    recent conversation alone, and with what Hearth had remembered before you wrote it (the
    notes come from the memory as it stood then, found with the turns before the message,
    never the message). Kept in the journal; measured messages are skipped, so a second run
    goes on where the last stopped. Prints a table per session."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from agent.access import read_store
    from agent.learn.extract.pipeline import UNNAMED
    from agent.learn.person import person_name
    from agent.runtime.backend import scoring_instance
    from agent.startup import measuring_model
    from agent.understanding import (
        WINDOW,
        UnderstandingReport,
        figures,
        journal_moments,
        per_session,
        understand_all,
    )

    start = as_local(since)
    skipped: list[int] = []
    measured = 0
    seconds = 0.0
    with opened(write=True) as here:
        home = here.home
        what = "hearth understanding (each message's log-probability)"
        resolved, sha = measuring_model(home, what, session)
        done = {r.message_id for r in home.journal.surprises(sha)}
        # Every message in range, once: those measured before are skipped, the rest read.
        wanted = {
            m.message_id: m for m in journal_moments(home.journal, session_id=session, since=start)
        }
        pending = [m for i, m in wanted.items() if i not in done]
        if pending:
            settings = home.settings.model
            n_ctx = min(WINDOW, settings.n_ctx)
            with scoring_instance(resolved.path, settings, n_ctx, home.paths.log_file) as scorer:
                store = read_store(home)
                columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
                try:
                    started = time.perf_counter()
                    with Progress(*columns, console=err, transient=True) as bar:
                        task = bar.add_task(f"reading ({escape(scorer.name)})", total=len(pending))
                        rows, skipped = understand_all(
                            scorer,
                            store,
                            pending,
                            persona=home.settings.chat.persona,
                            name=person_name(store, home.settings.chat.user_name) or UNNAMED,
                            memory=home.settings.memory,
                            model_sha256=sha,
                            keep=home.journal.add_surprise,
                            advance=lambda: bar.advance(task),
                        )
                    seconds = time.perf_counter() - started
                    measured = len(rows)
                finally:
                    store.close()
        rows_all = [r for r in home.journal.surprises(sha) if r.message_id in wanted]
    sessions = per_session(rows_all)
    report = UnderstandingReport(
        model=resolved.path.name,
        model_sha256=sha,
        measured=measured,
        done_before=len(done & wanted.keys()),
        skipped=skipped,
        seconds=round(seconds, 3),
        overall=figures(rows_all),
        sessions=sessions,
    )
    if plot is not None and sessions:
        plot_sessions(sessions, plot, resolved.path.name)
        report.plot = str(plot)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    table = Table(
        "session", "started", "messages", "bits alone", "with memory", "saved", "less surprising",
        title=f"How surprising your messages are to {resolved.path.name} (bits per token)",
    )  # fmt: skip
    for s in sessions:
        table.add_row(
            str(s.session_id), s.started.astimezone().strftime("%Y-%m-%d %H:%M"),
            str(s.messages), f"{s.bits_alone:.2f}", f"{s.bits_with:.2f}", f"{s.saved:+.2f}",
            f"{s.less_surprising:.0%}",
        )  # fmt: skip
    out.print(table)
    o = report.overall
    out.print(
        f"{o.messages} message(s), {o.tokens:,} tokens: {o.bits_alone:.2f} bits per token alone, "
        f"{o.bits_with:.2f} with memory ({o.saved:+.2f} saved); {o.less_surprising:.0%} less "
        f"surprising; {o.with_notes} had notes. Measured now: {measured}"
        + (f"; too long to read: {', '.join(map(str, skipped))}" if skipped else "")
        + (f". Plot: {plot}" if report.plot else ""),
        highlight=False,
        soft_wrap=True,
    )
