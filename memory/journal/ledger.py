"""The export ledger: which files were written and which messages each held."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memory.clock import now
from memory.errors import NotFoundError
from memory.journal.base import JournalBase, iso
from memory.journal.signals import ExportRecord


class LedgerMixin(JournalBase):
    """The journal's record of its exports."""

    def record_export(
        self,
        *,
        kind: str,
        file_format: str,
        path: Path,
        sha256: str,
        rows: int,
        command: str,
        trained_ids: set[int],
        context_ids: set[int],
    ) -> ExportRecord:
        """Ledger one written export and every message it contained (trained or as context)."""
        ts = iso(now())
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO exports(kind, file_format, path, sha256, rows, created_at, command)"
                " VALUES (?,?,?,?,?,?,?)",
                (kind, file_format, str(path), sha256, rows, ts, command),
            )
            assert cur.lastrowid is not None
            export_id = cur.lastrowid
            items = [(export_id, mid, 1) for mid in sorted(trained_ids)]
            items += [(export_id, mid, 0) for mid in sorted(context_ids - trained_ids)]
            db.executemany(
                "INSERT INTO export_items(export_id, message_id, trained) VALUES (?,?,?)", items
            )
        return self._export(export_id)

    def exported_message_ids(self, kind: str | None = None, trained_only: bool = True) -> set[int]:
        """Messages some export (of this kind) already contained; what --only-new leaves out."""
        sql = "SELECT DISTINCT i.message_id FROM export_items i JOIN exports e ON e.id=i.export_id"
        where: list[str] = []
        args: list[Any] = []
        if kind is not None:
            where.append("e.kind=?")
            args.append(kind)
        if trained_only:
            where.append("i.trained=1")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return {int(r[0]) for r in self._db.execute(sql, args).fetchall()}

    def exports_containing(self, message_ids: set[int] | list[int]) -> list[ExportRecord]:
        """The exports that hold any of these messages, each naming which; oldest first."""
        wanted = sorted(set(message_ids))
        found: dict[int, list[int]] = {}
        # Chunked: SQLite limits how many parameters one statement may bind.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT export_id, message_id FROM export_items WHERE message_id IN ({marks})",
                chunk,
            ).fetchall()
            for r in rows:
                found.setdefault(int(r["export_id"]), []).append(int(r["message_id"]))
        return [
            self._export(eid).model_copy(update={"message_ids": sorted(mids)})
            for eid, mids in sorted(found.items())
        ]

    def exports(self) -> list[ExportRecord]:
        """The ledger, oldest first."""
        rows = self._db.execute("SELECT id FROM exports ORDER BY id").fetchall()
        return [self._export(int(r["id"])) for r in rows]

    def _export(self, export_id: int) -> ExportRecord:
        row = self._db.execute("SELECT * FROM exports WHERE id=?", (export_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no export {export_id}")
        return ExportRecord(**dict(row))

    def set_export_sha256(self, export_id: int, sha256: str) -> None:
        """A ledgered export rewritten by a forget: the ledger keeps the file's new checksum."""
        with self._tx() as db:
            db.execute("UPDATE exports SET sha256=? WHERE id=?", (sha256, export_id))
