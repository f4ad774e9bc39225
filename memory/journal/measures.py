"""Measures kept beside the journal: model hashes, ablation scores and surprise."""

from __future__ import annotations

import hashlib
from pathlib import Path

from memory.journal.base import JournalBase, iso
from memory.journal.schemas import MemoryUse, Score, Surprise


class MeasuresMixin(JournalBase):
    """What was measured of the journal's replies (`hearth score`, `hearth understanding`)."""

    # -- model identity -----------------------------------------------------------------

    def model_sha256(self, path: Path) -> str:
        """The file's sha256, computed once and cached by (size, mtime)."""
        st = path.stat()
        key = str(path.resolve())
        row = self._db.execute(
            "SELECT sha256 FROM model_hashes WHERE path=? AND size=? AND mtime_ns=?",
            (key, st.st_size, st.st_mtime_ns),
        ).fetchone()
        if row:
            return str(row["sha256"])
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        sha = digest.hexdigest()
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO model_hashes(path, size, mtime_ns, sha256)"
                " VALUES (?,?,?,?)",
                (key, st.st_size, st.st_mtime_ns, sha),
            )
        return sha

    # -- ablation scores (`hearth score`) ------------------------------------------------

    def add_scores(self, scores: list[Score]) -> None:
        """Record one reply's scores together: a run stopped midway leaves whole replies."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO scores(message_id, variant, mean_logprob, tokens,"
                " model_sha256, other_model, scored_at) VALUES (?,?,?,?,?,?,?)",
                [
                    (s.message_id, s.variant, s.mean_logprob, s.tokens, s.model_sha256,
                     int(s.other_model), iso(s.scored_at))
                    for s in scores
                ],
            )  # fmt: skip

    def scores(self, message_id: int) -> list[Score]:
        """A reply's scores, by every model that scored it."""
        rows = self._db.execute(
            "SELECT * FROM scores WHERE message_id=? ORDER BY model_sha256, variant", (message_id,)
        ).fetchall()
        return [
            Score(**{**dict(r), "other_model": bool(r["other_model"])}) for r in rows
        ]  # fmt: skip

    def scores_of(self, variants: tuple[str, ...]) -> list[Score]:
        """Every reply's scores of these variants, by every model (an export reads them once)."""
        marks = ",".join("?" * len(variants))
        rows = self._db.execute(
            f"SELECT * FROM scores WHERE variant IN ({marks}) ORDER BY message_id, model_sha256",
            variants,
        ).fetchall()
        return [
            Score(**{**dict(r), "other_model": bool(r["other_model"])}) for r in rows
        ]  # fmt: skip

    def scored_ids(self, model_sha256: str) -> set[int]:
        """Replies this model has scored (a second run skips them)."""
        rows = self._db.execute(
            "SELECT DISTINCT message_id FROM scores WHERE model_sha256=? AND variant='full'",
            (model_sha256,),
        ).fetchall()
        return {int(r["message_id"]) for r in rows}

    def delete_ablations(self, memory_ids: list[str]) -> int:
        """Forget the figures scored without these memories; returns how many rows went."""
        with self._tx() as db:
            cur = db.executemany(
                "DELETE FROM scores WHERE variant=?", [(f"without:{i}",) for i in memory_ids]
            )
        return cur.rowcount

    def memory_use(self, memory_id: str) -> MemoryUse | None:
        """The largest drop in a reply's mean log-probability when this memory's note was
        taken out (None: no reply was scored without it)."""
        rows = self._db.execute(
            "SELECT w.message_id, f.mean_logprob - w.mean_logprob AS drop_ FROM scores w"
            " JOIN scores f ON f.message_id = w.message_id"
            " AND f.model_sha256 = w.model_sha256 AND f.variant = 'full'"
            " WHERE w.variant = ? ORDER BY drop_ DESC",
            (f"without:{memory_id}",),
        ).fetchall()
        if not rows:
            return None
        replies = len({r["message_id"] for r in rows})
        top = rows[0]
        return MemoryUse(
            memory_id=memory_id, drop=top["drop_"], message_id=top["message_id"], replies=replies
        )

    # -- surprise (`hearth understanding`) -----------------------------------------------

    def add_surprise(self, row: Surprise) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO surprise(message_id, model_sha256, tokens, bits_alone,"
                " bits_with, notes, scored_at) VALUES (?,?,?,?,?,?,?)",
                (row.message_id, row.model_sha256, row.tokens, row.bits_alone, row.bits_with,
                 row.notes, iso(row.scored_at)),
            )  # fmt: skip

    def surprises(self, model_sha256: str | None = None) -> list[Surprise]:
        """Every message's surprise under this model (default: the model that measured last),
        with its session and time, oldest first."""
        if model_sha256 is None:
            last = self._db.execute(
                "SELECT model_sha256 FROM surprise ORDER BY scored_at DESC LIMIT 1"
            ).fetchone()
            if last is None:
                return []
            model_sha256 = str(last["model_sha256"])
        rows = self._db.execute(
            "SELECT s.*, m.session_id, m.created_at AS at FROM surprise s"
            " JOIN messages m ON m.id = s.message_id WHERE s.model_sha256 = ? ORDER BY m.id",
            (model_sha256,),
        ).fetchall()
        return [Surprise(**dict(r)) for r in rows]
