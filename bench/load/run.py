"""Load benchmark: the same N-line online_retail file three ways, side by side in one process
tree, each as a child process of this script.

1. bare COPY:  psql \\copy into a plain table of text columns (no types, no indexes): the floor.
2. to_sql:     pandas.read_csv + DataFrame.to_sql (a common quick way; a baseline only).
3. segwise:    `segwise load --layout online_retail` into a fresh migrated warehouse: file to
               typed, validated facts and dimensions with their indexes, ledger and rejects.

Wall time and the peak RSS of each child's process tree (psutil, sampled every 50 ms) are
recorded. The PostgreSQL server's backends are not children and are not counted.

The input is made by resampling whole invoices of the real UCI file (new invoice numbers,
cancellations keep their C), streamed in chunks so a 10M-line file needs no more memory than a
1M one.

    python bench/load/run.py --lines 1000000                 # 3 interleaved runs, medians
    python bench/load/run.py --lines 10000000 --only copy,segwise --repeat 1

It prints the results as JSON and as a markdown table for BENCHMARKS.md ("## Load").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
ADMIN_URL = os.environ.get(
    "SEGWISE_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
CHUNK_INVOICES = 20_000


def iso_dates(values: pa.Array) -> pa.Array:
    """UCI I dates (``12/1/2010 8:26``) the way Online Retail II writes them (ISO)."""
    parsed = pc.strptime(values, format="%m/%d/%Y %H:%M", unit="s")
    return pc.strftime(parsed, format="%Y-%m-%d %H:%M:%S")


def generate(path: Path, lines: int, seed: int = 7, *, iso: bool = False) -> int:
    """Write ~``lines`` rows (whole invoices) resampled from the real file; returns the count.
    ``iso``: InvoiceDate written the Online Retail II way (ISO); the same rows otherwise."""
    table = pacsv.read_csv(
        SOURCE,
        read_options=pacsv.ReadOptions(encoding="latin-1"),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in COLUMNS}),
    )
    invoice = table.column("InvoiceNo").to_numpy(zero_copy_only=False).astype(str)
    # invoices are contiguous runs in the file: their starts and sizes
    change = np.flatnonzero(invoice[1:] != invoice[:-1]) + 1
    starts = np.concatenate([[0], change])
    sizes = np.diff(np.concatenate([starts, [len(invoice)]]))
    cancelled = np.char.startswith(invoice[starts], "C")
    rng = np.random.default_rng(seed)
    written, number = 0, 0
    with path.open("wb") as out:
        out.write((",".join(COLUMNS) + "\n").encode("latin-1"))
        while written < lines:
            pick = rng.integers(0, len(starts), CHUNK_INVOICES)
            n = sizes[pick]
            cum = np.cumsum(n)
            keep = np.searchsorted(cum, lines - written, side="left") + 1
            pick, n = pick[:keep], n[:keep]
            rows = np.repeat(
                starts[pick] - np.concatenate([[0], np.cumsum(n)[:-1]]), n
            ) + np.arange(int(n.sum()))
            chunk = table.take(pa.array(rows))
            numbers = np.repeat(np.arange(number, number + len(pick)) + 1_000_000, n).astype(str)
            prefix = np.where(np.repeat(cancelled[pick], n), "C", "")
            new_invoice = pa.array(np.char.add(prefix, numbers))
            chunk = chunk.set_column(0, "InvoiceNo", new_invoice)
            if iso:
                at = chunk.schema.get_field_index("InvoiceDate")
                chunk = chunk.set_column(at, "InvoiceDate", iso_dates(chunk.column(at)))
            sink = pa.BufferOutputStream()
            pacsv.write_csv(chunk, sink, write_options=pacsv.WriteOptions(include_header=False))
            out.write(sink.getvalue().to_pybytes().decode("utf-8").encode("latin-1"))
            written += chunk.num_rows
            number += len(pick)
    return written


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run a child process; wall time and peak RSS of its process tree."""
    started = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - started
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"wall_s": wall, "peak_rss_mb": peak / 2**20, "stdout": out.decode()[-3000:]}


def create_db(name: str) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_db(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


TO_SQL = """
import sys, pandas as pd, sqlalchemy
df = pd.read_csv(sys.argv[1], encoding="latin-1", dtype=str)
engine = sqlalchemy.create_engine(sys.argv[2].replace("postgresql://", "postgresql+psycopg://"))
df.to_sql("online_retail", engine, if_exists="replace", index=False, chunksize=10000)
print(len(df))
"""


def run_copy(data: Path) -> dict:
    url = create_db("segwise_bench_copy")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE online_retail (" + ", ".join(f'"{c}" text' for c in COLUMNS) + ")"
        )
    copy = f"\\copy online_retail FROM '{data}' WITH (FORMAT csv, HEADER true, ENCODING 'LATIN1')"
    try:
        return measure(["psql", "-q", url, "-c", copy])
    finally:
        drop_db("segwise_bench_copy")


def run_to_sql(data: Path) -> dict:
    url = create_db("segwise_bench_pandas")
    try:
        return measure([sys.executable, "-c", TO_SQL, str(data), url])
    finally:
        drop_db("segwise_bench_pandas")


def run_segwise(data: Path, results: dict) -> dict:
    url = create_db("segwise_bench_load")
    try:
        subprocess.run(
            [sys.executable, "-m", "etl.cli", "db", "upgrade", "--database-url", url],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        out = measure(
            [
                sys.executable,
                "-m",
                "etl.cli",
                "load",
                str(data),
                "--layout",
                "online_retail",
                "-q",
                "--database-url",
                url,
            ]
        )
        with psycopg.connect(url) as conn:
            results["warehouse"] = dict(
                zip(
                    ("lines", "orders", "customers", "products", "rejected"),
                    conn.execute(
                        "SELECT (SELECT count(*) FROM warehouse.fact_order_line), "
                        "(SELECT count(*) FROM warehouse.fact_order), "
                        "(SELECT count(*) FROM warehouse.dim_customer), "
                        "(SELECT count(*) FROM warehouse.dim_product), "
                        "(SELECT count(*) FROM staging.rejected_rows)"
                    ).fetchone(),
                    strict=True,
                )
            )
        return out
    finally:
        drop_db("segwise_bench_load")


def run(lines: int, only: set[str], workdir: Path, repeat: int) -> dict:
    """Each method ``repeat`` times, interleaved (copy, segwise, copy, segwise...) so a change
    in the machine's load hits both alike; to_sql once (it is only a baseline)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / f"online_retail_{lines}.csv"
    t0 = time.perf_counter()
    if not data.exists():
        generate(data, lines)
    gen_s = time.perf_counter() - t0
    n_rows = sum(1 for _ in data.open("rb")) - 1
    results: dict = {
        "lines": n_rows,
        "bytes": data.stat().st_size,
        "generate_s": gen_s,
        "cpus": os.cpu_count(),
        "load_avg_before": os.getloadavg()[0],
        "repeat": repeat,
        "samples": {},
    }
    samples = results["samples"]
    if "to_sql" in only:
        samples["to_sql"] = [run_to_sql(data)]
    for _ in range(repeat):
        if "copy" in only:
            samples.setdefault("copy", []).append(run_copy(data))
        if "segwise" in only:
            samples.setdefault("segwise", []).append(run_segwise(data, results))
    results["runs"] = {
        k: {
            "wall_s": statistics.median(r["wall_s"] for r in v),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in v),
            "walls": [round(r["wall_s"], 2) for r in v],
        }
        for k, v in samples.items()
    }
    for v in samples.values():
        for r in v:
            r.pop("stdout", None)
    results["load_avg_after"] = os.getloadavg()[0]
    return results


def markdown(results: list[dict]) -> str:
    lines = [
        "## Load",
        "",
        "`python bench/load/run.py --lines N`: one online_retail-layout file (whole invoices",
        "resampled from the UCI file, latin-1 CSV), loaded three ways as child processes of the",
        "script, one after the other. Peak RSS is the child's process tree (psutil, 50 ms",
        "samples); PostgreSQL's own backend processes are not included. Ratios are against bare",
        "COPY on the same file in the same run.",
        "",
        "| lines | method | wall (median) | vs bare COPY | rows/s | peak RSS | runs |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {
        "copy": "bare `psql \\copy` (text table, no indexes)",
        "to_sql": "`pandas.read_csv` + `DataFrame.to_sql`",
        "segwise": "`segwise load --layout online_retail`",
    }
    for r in results:
        base = r["runs"].get("copy", {}).get("wall_s")
        for key in ("copy", "to_sql", "segwise"):
            run_ = r["runs"].get(key)
            if not run_:
                continue
            ratio = f"{run_['wall_s'] / base:.1f}x" if base else "-"
            lines.append(
                f"| {r['lines']:,} | {names[key]} | {run_['wall_s']:.1f} s | {ratio} | "
                f"{r['lines'] / run_['wall_s']:,.0f} | {run_['peak_rss_mb']:,.0f} MB | "
                f"{', '.join(f'{w:.1f}' for w in run_['walls'])} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--only", default="copy,to_sql,segwise")
    ap.add_argument("--repeat", type=int, default=3, help="runs of copy and segwise (median)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "segwise_bench")
    ap.add_argument("--json", type=Path, help="append the results to this JSON-lines file")
    ap.add_argument("--keep-data", action="store_true", help="keep the generated file")
    args = ap.parse_args()
    results = run(args.lines, set(args.only.split(",")), args.workdir, args.repeat)
    print(json.dumps(results, indent=2, default=str))
    print(markdown([results]))
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps(results, default=str) + "\n")
    if not args.keep_data:
        for p in args.workdir.glob(f"online_retail_{args.lines}.csv"):
            p.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
