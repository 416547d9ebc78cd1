"""What a warehouse build knows about one staged batch: its mapping and files (with what
staging learned about their columns), its rejection codes and its counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from etl.ingest import date_formats, sqlgen
from etl.ingest.mapping import Mapping


@dataclass
class Batch:
    batch_id: int
    mapping: Mapping
    files: list[dict[str, Any]]
    layout: str
    codes: sqlgen.Codes = field(default_factory=sqlgen.Codes)
    rule_counts: dict[str, int] = field(default_factory=dict)
    rows_rejected: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rewritten: int = 0  # duplicates rewritten in place (they take the batch's id)
    # build-time data-quality checks (etl.ingest.batch_checks): check -> result rows
    checks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def sources_with_files(self) -> set[str]:
        return {f["source"] for f in self.files if f.get("rows", 0) or f.get("malformed", 0)}

    def file_paths(self) -> sql.Literal:
        return sql.Literal([f["path"] for f in self.files] or [""])

    def rows_read(self) -> int:
        return sum(f.get("rows", 0) + f.get("malformed", 0) for f in self.files)

    def malformed(self, source: str) -> int:
        return sum(f.get("malformed", 0) for f in self.files if f["source"] == source)

    def careful(self, source: str) -> frozenset[str]:
        """Columns that staging saw a value in that a plain cast may refuse (stage.CastCheck)."""
        return frozenset(
            c for f in self.files if f["source"] == source for c in f.get("careful", ())
        )

    def date_formats(self, source: str) -> dict[str, str]:
        """Date/time column -> the one format it is read with: the first of the layout's
        formats that read every value in every file of the source (staging checked them,
        ``files[].date_formats``; see etl.ingest.date_formats). Columns without one are
        parsed value by value."""
        files = [f.get("date_formats") for f in self.files if f["source"] == source]
        out = {}
        for col in self.mapping.sources[source].columns.values():
            if col.type in ("date", "timestamp") and col.formats and files:
                text = date_formats.chosen(files, [f.text for f in col.formats], col.name)
                if text is not None:
                    out[col.name] = text
        return out

    def typed_dates(self, source: str) -> frozenset[str]:
        """Date/time columns that every file of the source gave typed (Parquet): cast."""
        sets = [set(f.get("typed_dates", ())) for f in self.files if f["source"] == source]
        return frozenset(set.intersection(*sets)) if sets else frozenset()

    def iso_dates(self, source: str) -> frozenset[str]:
        """Date/time columns that some files gave typed, others as text: the typed values'
        ISO text is accepted besides the layout's formats."""
        sets = [set(f.get("typed_dates", ())) for f in self.files if f["source"] == source]
        return frozenset(set().union(*sets) - self.typed_dates(source)) if sets else frozenset()

    def typing(self, source: str) -> dict[str, Any]:
        """sqlgen.typed_select's keyword arguments for one source's columns (but ``fast``)."""
        return {
            "careful": self.careful(source),
            "date_formats": self.date_formats(source),
            "typed_dates": self.typed_dates(source),
            "iso_dates": self.iso_dates(source),
        }

    def count(self, key: str, n: int) -> None:
        if n:
            self.rule_counts[key] = self.rule_counts.get(key, 0) + int(n)
