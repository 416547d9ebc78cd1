"""`segwise layouts`: the built-in layouts, one as a mapping file, or the SQL a layout compiles to.

``--sql`` renders the statements the warehouse build runs for a mapping, through the same
``etl.ingest.sqlgen`` functions the build calls, so what is printed is what runs. The
tests keep a snapshot per built-in layout (tests/ingest/snapshots/), which makes every change
to the generated SQL visible in review.
"""

from __future__ import annotations

import argparse
import sys

from psycopg import sql

from etl.ingest import sqlgen
from etl.ingest.mapping import CUSTOMERS, LINES, PRODUCTS, Mapping
from etl.ingest.stage import position_column

BATCH_ID = 1  # stands for the batch being built; the build uses the batch's own id
# Model files the build runs with the same text for every layout (only table names and the
# batch id filled in): named in the output, not printed.
SAME_FOR_EVERY_LAYOUT = (
    "staging/malformed_rows.sql",
    "staging/rejected_rows.sql",
    "staging/duplicate_lines.sql",
    "warehouse/fact_order_line_first.sql",
    "warehouse/fact_order_line.sql",
    "warehouse/order_totals.sql",
    "warehouse/fact_order.sql",
    "warehouse/dim_keys.sql",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    layouts = subparsers.add_parser(
        "layouts",
        help="list the built-in layouts, or print one as a mapping file or as SQL",
        description="Without NAME: the built-in layouts. With NAME: its mapping file (YAML), a "
        "starting point for --mapping. With --sql: the SQL the layout (or the --mapping file) "
        "compiles to.",
    )
    layouts.add_argument("name", nargs="?", metavar="NAME")
    layouts.add_argument("--mapping", metavar="FILE", help="a mapping file (with --sql)")
    layouts.add_argument(
        "--sql", action="store_true", help="print the SQL the warehouse build runs for it"
    )
    layouts.set_defaults(func=_layouts)


def _layouts(args: argparse.Namespace) -> int:
    from etl.ingest import layouts, mapping

    if args.mapping and args.name:
        raise SystemExit("segwise layouts: give a layout NAME or --mapping FILE, not both")
    if args.mapping and not args.sql:
        raise SystemExit("segwise layouts: --mapping FILE needs --sql")
    if args.sql:
        if not (args.name or args.mapping):
            raise SystemExit("segwise layouts: --sql needs a layout NAME or --mapping FILE")
        sys.stdout.write(layout_sql(mapping.resolve(args.name, args.mapping)))
        return 0
    if args.name:
        sys.stdout.write(layouts.describe(args.name))
        return 0
    for name, description in layouts.available().items():
        print(f"{name:<16} {description}")
    print("\nsegwise layouts NAME prints one as a mapping file, --sql as SQL; see docs/mapping.md")
    return 0


def layout_sql(m: Mapping) -> str:
    """The mapping-dependent statements of a warehouse build, in the order the build runs them
    (every source present; the careful typing path, which the build falls back to when a plain
    cast refuses a value)."""
    codes = sqlgen.Codes()
    lines_target = m.targets.get(LINES)
    lines_source = lines_target.source if lines_target else None
    parts: list[tuple[str, sql.Composable]] = []
    for src in m.file_sources():
        if src.name == lines_source:
            continue
        typed = sqlgen.typed_select(
            src, sqlgen.raw_table(BATCH_ID, src.name), codes, f"{src.name}."
        )
        statement = sqlgen.model(
            "staging/source_table.sql", table=sqlgen.typed_table(src.name), typed=typed
        )
        parts.append((f"source {src.name}: typed (staging/source_table.sql)", statement))
    for src in m.sources.values():
        if src.derived:
            params = {k: sql.Literal(v) for k, v in m.params.items()}
            statement = sqlgen.model(
                f"staging/{src.model}.sql",
                output=sqlgen.typed_table(src.name),
                input=sqlgen.typed_table(src.input),
                **params,
            )
            parts.append((f"source {src.name}: derived (staging/{src.model}.sql)", statement))
    for kind in (CUSTOMERS, PRODUCTS):
        dim = m.targets.get(kind)
        if dim is None or dim.source == lines_source:
            continue
        model = f"warehouse/dim_{'customer' if kind == CUSTOMERS else 'product'}.sql"
        statement = sqlgen.model(
            model, rows=sqlgen.dim_rows_from_source(m, kind), batch_id=sql.Literal(BATCH_ID)
        )
        parts.append((f"{kind}: from source {dim.source} ({model})", statement))
    if lines_target is not None:
        table = sql.Identifier("staging", f"lines_{BATCH_ID}")
        plan = sqlgen.order_lines(
            m, BATCH_ID, codes, table, positions=position_column(m) is not None
        )
        parts.append(
            (
                f"order lines from source {lines_source} (line numbers: {plan.line_numbers})",
                plan.statement,
            )
        )
        for kind in plan.dims_from_lines:
            parts.append(
                (f"{kind}: rows from the order lines", sqlgen.dim_rows_from_lines(m, kind, table))
            )
    out = [
        f"-- The SQL the warehouse build runs for mapping {m.name!r} (batch id {BATCH_ID}).",
        "-- Also run, with the same text for every layout:",
        *(f"--   sql/{name}" for name in SAME_FOR_EVERY_LAYOUT),
    ]
    for title, statement in parts:
        out += ["", f"-- {title}", statement.as_string().strip() + ";"]
    if codes.items:
        out += ["", "-- rejection codes (_reject) used above:"]
        out += [
            f"--   {n}: {rule} ({column or '-'}): {reason}"
            for n, (rule, column, reason) in enumerate(codes.items, 1)
        ]
    return "\n".join(out) + "\n"
