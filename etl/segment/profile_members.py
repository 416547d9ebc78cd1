"""The profile stage's one row per customer, with a column per method, and the GROUPING SETS
parts that add it up per method in one pass.

Every profile is a sum over a segment's customers, for every method of the run. Joining each
customer's memberships (one row per method) to its measures reads every customer row once per
method and hashes text keys for each; at 381k customers and six methods that took 90-130 s.
Here the customers are read once (``sql/segmentation/profile_members.sql``: a temporary table
of the run's customers with one segment column per method) and each profile model groups them
with ``GROUPING SETS``, one set per method plus the whole population, so Postgres adds each row
into every method's groups in a single scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import psycopg
from psycopg import sql

from etl.db import local_settings
from etl.paths import model
from etl.segment import runs
from etl.segment.customer_state import temp_table
from etl.segment.profile_sql import RUN_ROWS

ALIAS = "m"  # the members table's alias in the profile models


def _name(run_id: int) -> str:
    return f"segwise_profile_members_{int(run_id)}"


def ensure(conn: psycopg.Connection, run_id: int) -> tuple[sql.Identifier, list[str]]:
    """The run's members table (created in this transaction unless it exists) and the methods
    that have a column in it: those with segments in the run, in the run's method order."""
    methods = shown_methods(conn, run_id)
    name = _name(run_id)
    if conn.execute("SELECT to_regclass(%s) IS NULL", (f"pg_temp.{name}",)).fetchone()[0]:
        with local_settings(conn, RUN_ROWS):
            temp_table(conn, name, _select(run_id, methods, runs.method_sources(conn, run_id)))
    return sql.Identifier(name), methods


# Methods whose scores the members table reads: joined by the model itself, under these aliases.
JOINED = {"rfm": "sr", "clv": "sc", "demographic": "sd"}


def _select(run_id: int, methods: Sequence[str], sources: Mapping[str, int]) -> sql.Composed:
    """The members SELECT. Each method's memberships are read where they are stored (the run
    in ``sources`` that computed them, by primary key range): joined through the view
    ``customer_segments`` on the run, the planner read the method's rows of every stored run."""
    segments, joins = [], []
    for method in methods:
        alias = JOINED.get(method, f"s_{method}")
        if method not in JOINED:
            joins.append(
                sql.SQL(
                    "LEFT JOIN segmentation.memberships AS {a} ON {a}.run_id = {source} "
                    "AND {a}.method = {m} AND {a}.customer_id = f.customer_id"
                ).format(
                    a=sql.Identifier(alias),
                    source=sql.Literal(sources.get(method)),
                    m=sql.Literal(method),
                )
            )
        segments.append(
            sql.SQL("{a}.segment AS {s}, {a}.segment_id AS {i}").format(
                a=sql.Identifier(alias),
                s=sql.Identifier(f"segment_{method}"),
                i=sql.Identifier(f"segment_id_{method}"),
            )
        )
    return model(
        "segmentation/profile_members.sql",
        run_id=sql.Literal(int(run_id)),
        segments=sql.SQL(",\n    ").join(segments) if segments else sql.SQL("NULL AS no_method"),
        joins=sql.SQL("\n").join(joins),
        **{
            f"{method}_source": sql.SQL("{}::bigint").format(sql.Literal(sources.get(method)))
            for method in JOINED
        },
    )


def shown_methods(conn: psycopg.Connection, run_id: int) -> list[str]:
    """The methods the run shows memberships of (segmentation.run_methods) that have rows, in
    the run's method order; each read where its rows are stored."""
    row = conn.execute(
        "SELECT r.methods, array("
        "  SELECT rm.method FROM segmentation.run_methods AS rm"
        "  WHERE rm.run_id = r.run_id AND EXISTS ("
        "    SELECT 1 FROM segmentation.memberships AS m"
        "    WHERE m.run_id = rm.source_run_id AND m.method = rm.method)) "
        "FROM segmentation.runs AS r WHERE r.run_id = %(r)s",
        {"r": run_id},
    ).fetchone()
    if row is None:
        return []
    ordered, present = row
    return [m for m in ordered if m in set(present)] + sorted(set(present) - set(ordered))


def column(method: str) -> sql.Composed:
    """The members table's segment column of ``method`` (measure columns never start so)."""
    return sql.SQL("{}.{}").format(sql.Identifier(ALIAS), sql.Identifier(f"segment_{method}"))


def segment_ids(methods: Sequence[str]) -> dict[str, sql.Composable]:
    """Parts ``segment_ids`` (every method's smallest segment id, as aggregates of the members
    table, alias ``m``: ``segment_id_<method>``) and ``segment_id`` (the one of a grouped row's
    own method, from a row of those aggregates, alias ``g``)."""
    if not methods:
        return {"segment_ids": sql.SQL("NULL::int AS no_ids"), "segment_id": sql.SQL("NULL::int")}
    ids = [sql.Identifier(f"segment_id_{m}") for m in methods]
    return {
        "segment_ids": sql.SQL(", ").join(
            sql.SQL("min({}.{}) AS {}").format(sql.Identifier(ALIAS), i, i) for i in ids
        ),
        "segment_id": sql.SQL("CASE g.method {} END").format(
            sql.SQL(" ").join(
                sql.SQL("WHEN {} THEN g.{}").format(sql.Literal(m), i)
                for m, i in zip(methods, ids, strict=True)
            )
        ),
    }


def cell_keys(methods: Sequence[str], keys: Iterable[str]) -> sql.Composable:
    """Part ``cell_keys``: every method's segment column and ``keys`` (SQL expressions), to
    add the members up per combination of segments before the grouping sets add the
    combinations into each method's groups. The combinations are far fewer than the rows they
    add up (10M demo lines, six methods: 1.6M customer x category rows became 82k), and every
    grouping set then sums those instead. Not for the channel profiles: their combinations
    with the channel values (239k of 2.65M rows there) took as long to hash, with 8 numeric
    sums each, as the grouping sets they saved."""
    return sql.SQL(", ").join([*(column(m) for m in methods), *(sql.SQL(k) for k in keys)])


def grouping(
    methods: Sequence[str], keys: Iterable[str | sql.Composable] = (), *, whole: bool = True
) -> dict[str, sql.Composable]:
    """Parts ``sets``, ``method`` and ``segment`` for a model grouping the members table (alias
    ``m``): one grouping set per method (its segment column plus ``keys``, SQL expressions) and,
    with ``whole``, one of ``keys`` alone for the population (method and segment 'all').
    ``method`` / ``segment`` name the set a result row belongs to (a CASE over GROUPING())."""
    keys = [sql.SQL(k) if isinstance(k, str) else k for k in keys]
    sets = [sql.SQL("({})").format(sql.SQL(", ").join([column(m), *keys])) for m in methods]
    if whole:
        sets.append(sql.SQL("({})").format(sql.SQL(", ").join(keys)))
    if not sets:
        raise ValueError("grouping needs a method or the whole population")
    method_case = [
        sql.SQL("WHEN GROUPING({}) = 0 THEN {}").format(column(m), sql.Literal(m)) for m in methods
    ]
    segment_case = [
        sql.SQL("WHEN GROUPING({}) = 0 THEN {}").format(column(m), column(m)) for m in methods
    ]
    if not methods:
        return {"sets": sets[0], "method": sql.SQL("'all'"), "segment": sql.SQL("'all'")}
    return {
        "sets": sql.SQL(", ").join(sets),
        "method": sql.SQL("CASE {} ELSE 'all' END").format(sql.SQL(" ").join(method_case)),
        "segment": sql.SQL("CASE {} ELSE 'all' END").format(sql.SQL(" ").join(segment_case)),
    }
