"""docs/models.md defines every warehouse, segmentation and mart column, and is current."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import psycopg

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "models-doc"


def _script():
    loader = importlib.machinery.SourceFileLoader("models_doc", str(SCRIPT))
    spec = importlib.util.spec_from_loader("models_doc", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_every_table_view_and_column_has_a_comment(database_url):
    with psycopg.connect(database_url) as conn:
        missing = conn.execute(
            "SELECT c.table_schema || '.' || c.table_name || '.' || c.column_name "
            "FROM information_schema.columns AS c "
            "WHERE c.table_schema IN ('warehouse', 'segmentation', 'mart') "
            "AND col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, "
            "c.ordinal_position) IS NULL "
            "UNION ALL SELECT n.nspname || '.' || c.relname FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('warehouse', 'segmentation', 'mart') "
            "AND c.relkind IN ('r', 'p', 'v') AND obj_description(c.oid, 'pg_class') IS NULL"
        ).fetchall()
    assert not missing, f"no COMMENT ON: {[m[0] for m in missing]}"


def test_docs_models_md_is_current(database_url):
    script = _script()
    current = script.DOC.read_text(encoding="utf-8")
    generated = script.render(database_url)
    assert "`warehouse.fact_order_line` (table)" in generated
    assert "`mart.customer_segments` (view)" in generated
    assert script.with_generated(current, generated) == current, (
        "docs/models.md is out of date: run scripts/models-doc and commit it"
    )
