"""Every file under sql/ says in its first line how it is filled, is used by code, and every SQL
path the code names exists.

First lines (docs/models.md, "SQL files"):
  -- fixed SQL: run as is by <function>
  -- parameters <names or none>: bound by psycopg in <function>       (%(name)s placeholders)
  -- template parts <names>: filled by <function>                     ({name} placeholders)
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from etl.mart.views import mart_view_files
from etl.paths import sql_dir

ROOT = Path(__file__).resolve().parent.parent
SQL = sql_dir()
SQL_FILES = sorted(p.relative_to(SQL).as_posix() for p in SQL.rglob("*.sql"))
CODE_DIRS = ("etl", "migrations", "dags")

HEADERS = {
    "fixed": re.compile(r"-- fixed SQL: run as is by (?P<func>[\w.]+)"),
    "parameters": re.compile(
        r"-- parameters (?P<names>none|\w+(?:, \w+)*): bound by psycopg in (?P<func>[\w.]+)"
    ),
    "template": re.compile(
        r"-- template parts (?P<names>\w+(?:, \w+)*): filled by (?P<func>[\w.]+)"
    ),
}
_PATHLIKE = re.compile(r"[\w/.]*")
PLACEHOLDERS = {"parameters": re.compile(r"%\((\w+)\)s"), "template": re.compile(r"\{(\w+)\}")}


def _header(relative: str) -> tuple[str, re.Match]:
    first = (SQL / relative).read_text(encoding="utf-8").split("\n", 1)[0]
    for kind, pattern in HEADERS.items():
        found = pattern.fullmatch(first)
        if found:
            return kind, found
    pytest.fail(f"sql/{relative}: first line {first!r} does not say how the file is filled")


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("relative", SQL_FILES)
def test_first_line_says_how_the_file_is_filled(relative):
    kind, header = _header(relative)
    assert callable(_resolve(header["func"])), f"sql/{relative}: {header['func']} is not callable"
    body = (SQL / relative).read_text(encoding="utf-8").split("\n", 1)[1]
    found = {
        k: set(p.findall(body)) for k, p in PLACEHOLDERS.items()
    }  # placeholders in use, by style
    if kind == "fixed":
        assert not found["parameters"] and not found["template"], f"sql/{relative}: {found}"
        return
    declared = set() if header["names"] == "none" else set(header["names"].split(", "))
    assert found[kind] == declared, f"sql/{relative}: first line says {declared}"
    other = "template" if kind == "parameters" else "parameters"
    assert not found[other], f"sql/{relative} mixes placeholder styles: {found[other]}"


def _python_files() -> Iterator[Path]:
    for d in CODE_DIRS:
        yield from (ROOT / d).rglob("*.py")


def _sql_references() -> tuple[list[re.Pattern], set[str]]:
    """SQL paths named in code (f-string parts become wildcards) and every string constant."""
    patterns: list[re.Pattern] = []
    constants: set[str] = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
                if re.fullmatch(r"(sql/)?[\w/]+\.sql", node.value):
                    patterns.append(re.compile(re.escape(node.value.removeprefix("sql/"))))
            elif isinstance(node, ast.JoinedStr):
                fixed = [v.value for v in node.values if isinstance(v, ast.Constant)]
                if not (
                    "".join(fixed).endswith(".sql") and all(_PATHLIKE.fullmatch(t) for t in fixed)
                ):
                    continue  # not a path, e.g. a message that mentions one
                text = "".join(
                    re.escape(v.value) if isinstance(v, ast.Constant) else r"(\w+)"
                    for v in node.values
                )
                patterns.append(re.compile(text.removeprefix("sql/")))
    return patterns, constants


def _layout_models() -> set[str]:
    models = set()
    for path in (ROOT / "etl" / "layouts").glob("*.yml"):
        for source in (
            yaml.safe_load(path.read_text(encoding="utf-8")).get("sources") or {}
        ).values():
            if isinstance(source, dict) and source.get("model"):
                models.add(source["model"])
    return models


def test_every_sql_file_is_used_by_code():
    patterns, constants = _sql_references()
    names = constants | _layout_models()  # values the wildcard parts of an f-string can take
    mart = {p.relative_to(SQL).as_posix() for p in mart_view_files()}
    unused = []
    for relative in SQL_FILES:
        if relative in mart:
            continue
        used = any(
            (m := p.fullmatch(relative)) and all(g in names for g in m.groups()) for p in patterns
        )
        if not used:
            unused.append(relative)
    assert not unused, f"SQL files no code refers to: {unused}"


def test_every_sql_path_named_in_code_exists():
    patterns, _ = _sql_references()
    assert patterns, "no SQL path found in the code: the scan is broken"
    missing = [p.pattern for p in patterns if not any(p.fullmatch(f) for f in SQL_FILES)]
    assert not missing, f"code names SQL files that do not exist: {missing}"
