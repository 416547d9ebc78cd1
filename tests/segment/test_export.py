"""`segwise export` and the DAG's export folder on a real warehouse with two published runs:
row counts equal the marts', entered + stayed = the segment's size, files are whole or absent."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from etl import cli, export, migrate
from etl.segment import pipeline
from tests.airflow import small_warehouse
from tests.conftest import create_database, drop_database

EARLIER = dt.date(2026, 5, 31)
LATEST = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    url = create_database("segwise_export")
    try:
        migrate.upgrade(url)
        small_warehouse.seed(url, customers=300, orders=4000, days=150, end=LATEST)
        for as_of in (EARLIER, LATEST):
            pipeline.run_all(url, as_of, methods="rfm,tiers", trigger="test")
        yield url
    finally:
        drop_database(url)


def _members(url: str, as_of: dt.date, method: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT s.customer_id, s.segment FROM segmentation.customer_segments s "
                "JOIN segmentation.runs r USING (run_id) "
                "WHERE r.as_of_date = %s AND r.status = 'published' AND s.method = %s",
                (as_of, method),
            ).fetchall()
        )


def _biggest_mover(url: str) -> str:
    """An RFM segment with customers both entering and staying (so the test means something)."""
    before, now = _members(url, EARLIER, "rfm"), _members(url, LATEST, "rfm")
    scores = {}
    for seg in set(now.values()):
        entered = sum(1 for c, s in now.items() if s == seg and before.get(c) != seg)
        stayed = sum(1 for c, s in now.items() if s == seg and before.get(c) == seg)
        left = sum(1 for c, s in before.items() if s == seg and now.get(c) != seg)
        if entered and stayed and left:
            scores[seg] = entered + stayed
    assert scores, "test data must have a segment with entries, stayers and leavers"
    return max(scores, key=scores.get)


def _csv_ids(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [row["customer_id"] for row in csv.DictReader(fh)]


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["export", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_segment_export_matches_the_mart(url, tmp_path, capsys) -> None:
    segment = _biggest_mover(url)
    with psycopg.connect(url) as conn:
        mart_ids = sorted(
            r[0]
            for r in conn.execute(
                "SELECT customer_id FROM mart.customer_segments WHERE rfm_segment = %s",
                (segment,),
            )
        )
    csv_out, pq_out = tmp_path / "seg.csv", tmp_path / "seg.parquet"
    for out, fmt in ((csv_out, "csv"), (pq_out, "parquet")):
        code, stdout, err = _cli(
            capsys, "--database-url", url, "--method", "rfm", "--segment", segment,
            "--format", fmt, "--out", str(out),
        )  # fmt: skip
        assert code == 0, err
        assert f"{len(mart_ids)} customers in {segment!r}" in stdout
    assert _csv_ids(csv_out) == mart_ids
    table = pq.read_table(pq_out).to_pandas()
    assert table["customer_id"].tolist() == mart_ids
    assert set(table["segment"]) == {segment}
    assert str(pq.read_schema(pq_out).field("monetary").type) == "decimal128(18, 2)"
    with csv_out.open(newline="") as fh:
        first = next(csv.DictReader(fh))
    row = table.iloc[0]
    assert first["customer_id"] == row["customer_id"]
    assert first["monetary"] == f"{row['monetary']:.2f}"  # same values in both formats
    assert not list(tmp_path.glob(".*part"))  # no temporary file left


def test_entered_plus_stayed_is_the_segment_size(url, tmp_path, capsys) -> None:
    segment = _biggest_mover(url)
    before, now = _members(url, EARLIER, "rfm"), _members(url, LATEST, "rfm")
    lists = {}
    for change in ("entered", "left"):
        out = tmp_path / f"{change}.csv"
        code, _, err = _cli(
            capsys, "--database-url", url, "--method", "rfm", "--segment", segment,
            "--change", change, "--out", str(out),
        )  # fmt: skip
        assert code == 0, err
        lists[change] = set(_csv_ids(out))
    size = {c for c, s in now.items() if s == segment}
    stayed = {c for c in size if before.get(c) == segment}
    assert lists["entered"].isdisjoint(stayed)
    assert lists["entered"] | stayed == size
    assert len(lists["entered"]) + len(stayed) == len(size)
    was = {c for c, s in before.items() if s == segment}
    assert lists["left"] == was - stayed


def test_past_as_of_exports_that_run_not_the_mart(url, tmp_path, capsys) -> None:
    segment = _biggest_mover(url)
    out = tmp_path / "past.parquet"
    code, stdout, err = _cli(
        capsys, "--database-url", url, "--method", "rfm", "--segment", segment,
        "--as-of", EARLIER.isoformat(), "--format", "parquet", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    expected = sorted(c for c, s in _members(url, EARLIER, "rfm").items() if s == segment)
    table = pq.read_table(out)
    assert table.column("customer_id").to_pylist() == expected
    assert {d.isoformat() for d in table.column("as_of_date").to_pylist()} == {EARLIER.isoformat()}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--method", "rfm", "--segment", "Astrologers"], "is not a rfm segment"),
        (["--method", "kmeans", "--segment", "x"], "method 'kmeans' did not run"),
        (["--method", "rfm", "--segment", "x", "--as-of", "2026-01-01"], "no published"),
        (
            ["--method", "rfm", "--segment", "{seg}", "--as-of", "2026-05-31", "--change", "left"],
            "no earlier published run",
        ),
    ],
)
def test_bad_requests_fail_in_one_line_and_write_nothing(url, tmp_path, capsys, args, needle):
    segment = _biggest_mover(url)
    out = tmp_path / "never.csv"
    args = [a.replace("{seg}", segment) for a in args]
    code, stdout, err = _cli(capsys, "--database-url", url, *args, "--out", str(out))
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.iterdir())


def test_run_folder_has_every_list_and_a_true_manifest(url, tmp_path) -> None:
    manifest = export.export_run(url, tmp_path / "run", fmt="csv")
    assert manifest["as_of"] == LATEST.isoformat()
    assert manifest["previous_as_of"] == EARLIER.isoformat()
    on_disk = json.loads((tmp_path / "run" / export.MANIFEST).read_text())
    assert on_disk == manifest
    now_rfm = _members(url, LATEST, "rfm")
    members = {
        f["segment"]: f for f in manifest["files"] if f["method"] == "rfm" and not f["change"]
    }
    assert {s: f["rows"] for s, f in members.items()} == {
        s: sum(1 for v in now_rfm.values() if v == s) for s in set(now_rfm.values())
    }
    files = {p.name for p in (tmp_path / "run").iterdir()} - {export.MANIFEST}
    assert files == {f["file"] for f in manifest["files"]}
    for f in manifest["files"]:
        path = tmp_path / "run" / f["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
        assert len(_csv_ids(path)) == f["rows"]
    changes = {f["change"] for f in manifest["files"]}
    assert changes == {None, "entered", "left"}
