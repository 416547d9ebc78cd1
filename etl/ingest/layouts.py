"""The built-in layouts (``etl/layouts/*.yml``), by name."""

from __future__ import annotations

from etl.ingest.mapping import Mapping, available_layouts, layouts_dir, load_layout

__all__ = ["available", "describe", "get", "path"]


def available() -> dict[str, str]:
    """Layout name -> one-line description."""
    return available_layouts()


def get(name: str) -> Mapping:
    return load_layout(name)


def path(name: str):
    return layouts_dir() / f"{name}.yml"


def describe(name: str) -> str:
    """The layout's mapping file, as text (a starting point for a custom mapping)."""
    get(name)  # validates the name
    return path(name).read_text(encoding="utf-8")
