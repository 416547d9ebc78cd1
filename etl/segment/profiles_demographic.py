"""Demographic profiles: every method's segments of a run crossed with demographic bands.

Entry point (called by ``etl.segment.pipeline.build_profiles``)::

    build(conn_or_url, run_id) -> int   # rows written to segmentation.demographic_profiles

The bands (age at the as-of date from birth_year, else the recorded age; income; gender; family
status; dependants; region) are the ones the ``demographic`` method stores per customer in
``customer_segments.scores``, so labels and profiles never disagree; that method must have run.
The maths is one set-based statement, ``sql/segmentation/profile_demographic.sql``, over the
run's members table (``etl.segment.profile_members``).
"""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from etl.errors import SegwiseError
from etl.paths import model
from etl.segment import profile_members
from etl.segment.profile_sql import replace_profiles

MODEL = "segmentation/profile_demographic.sql"
TABLE = "demographic_profiles"
DIMENSIONS = ("age_band", "income_band", "gender", "family_status", "dependants", "region")


def build(conn_or_url: psycopg.Connection | str, run_id: int) -> int:
    """Replace the run's demographic profiles; returns the rows written."""
    return replace_profiles(
        conn_or_url, run_id, table=TABLE, model=MODEL, check=_has_labels, statement=_statement
    )


def _statement(conn: psycopg.Connection, run_id: int, _as_of: dt.date) -> sql.Composed:
    members, methods = profile_members.ensure(conn, run_id)
    return model(
        MODEL,
        members=members,
        run_id=sql.Literal(run_id),
        size_sets=profile_members.grouping(methods)["sets"],
        cell_keys=profile_members.cell_keys(methods, ("b.dimension", "b.value")),
        **profile_members.grouping(methods, ("m.dimension", "m.value")),
    )


def _has_labels(conn: psycopg.Connection, run_id: int) -> None:
    labelled = "demographic" in profile_members.shown_methods(conn, run_id)
    if not labelled:
        raise SegwiseError(
            f"run {run_id} has no demographic labels: run the 'demographic' method before "
            "building demographic profiles (add it to --methods)"
        )
