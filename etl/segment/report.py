"""`segwise report`: kept as the entry point other modules import; the report is etl.report."""

from __future__ import annotations

from etl.report import DEFAULT_METHOD, render, resolve_run, write_report

__all__ = ["DEFAULT_METHOD", "render", "resolve_run", "write_report"]
