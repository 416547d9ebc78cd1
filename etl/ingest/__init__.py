"""Ingest: files or a source database -> staging (COPY) -> warehouse (set-based SQL).

Public API (docs/ingest.md):
- ``load_paths(url, paths, *, layout=None, mapping=None, progress=None) -> LoadResult``
- ``stage_paths(url, paths, *, layout=None, mapping=None, progress=None) -> LoadResult``
- ``build_warehouse(url, batch_ids=None) -> list[LoadResult]``
- ``load_inbox(url, inbox_dir, *, layout=None, mapping=None, build=True) -> list[LoadResult]``
- ``load_query(url, source_url, query, *, watermark_column, layout=None, mapping=None,
  build=True) -> LoadResult``

Functions that handle one batch raise ``LoadError`` (a SegwiseError) when it fails, after marking
it failed in the ledger; ``exc.result`` is its LoadResult. Functions that handle many batches
(``build_warehouse``, ``load_inbox``) carry on and return failed results in their list.
"""

from __future__ import annotations

from pathlib import Path

from etl.ingest.build import build_warehouse
from etl.ingest.ledger import LoadError, LoadResult
from etl.ingest.mapping import Mapping, resolve
from etl.ingest.sources import load_inbox, load_query
from etl.ingest.stage import Progress, stage_files

__all__ = [
    "LoadError",
    "LoadResult",
    "build_warehouse",
    "load_inbox",
    "load_paths",
    "load_query",
    "stage_paths",
]


def stage_paths(
    url: str,
    paths: list[str | Path] | str | Path,
    *,
    layout: str | None = None,
    mapping: str | Path | Mapping | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """COPY the files (one batch) into staging; status 'staged', or 'skipped' if known."""
    m = resolve(layout, mapping)
    return stage_files(url, paths, m, preset=layout is not None, progress=progress)


def load_paths(
    url: str,
    paths: list[str | Path] | str | Path,
    *,
    layout: str | None = None,
    mapping: str | Path | Mapping | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Stage the files as one batch and build it into the warehouse (what `segwise load` does)."""
    from etl.ingest.build import build_batch, memory_settings

    memory_settings()  # a bad setting fails here, before anything is staged
    staged = stage_paths(url, paths, layout=layout, mapping=mapping, progress=progress)
    if staged.status != "staged":
        return staged
    return build_batch(url, staged.batch_id, progress=progress)
