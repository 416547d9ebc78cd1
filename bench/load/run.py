"""Load benchmark: the same N-line online_retail files loaded several ways, side by side in one
run, each as a child process of this script.

1. bare COPY:  psql \\copy into a plain table of text columns (no types, no indexes): the floor.
2. typed COPY: psql \\copy into a table with the columns' types (integer, timestamp, numeric;
               no indexes): the floor for a load that types its values.
3. to_sql:     pandas.read_csv + DataFrame.to_sql (a common quick way; a baseline only).
4. segwise:    `segwise load --layout online_retail` into a fresh migrated warehouse: file to
               typed, validated facts and dimensions with their indexes, ledger and rejects.
               ``--compare DIR`` also runs the load from another checkout's code (e.g. a
               `git worktree` of main), interleaved with this one's.

Two files (``--files``), the same rows in both: ``uci``, the UCI Online Retail spelling of dates
(``12/1/2010 8:26``, the layout's first format), and ``iso``, the Online Retail II spelling
(``2010-12-01 08:26:00``). Wall time and the peak RSS of each child's process tree (psutil,
sampled every 50 ms) are recorded. The PostgreSQL server's backends are not children and are
not counted. The machine's load average is recorded before and after (a shared machine slows
every method, not all alike).

The input is made by resampling whole invoices of the real UCI file (new invoice numbers,
cancellations keep their C), streamed in chunks so a 10M-line file needs no more memory than a
1M one.

    python bench/load/run.py --lines 1000000                 # 3 interleaved runs, medians
    python bench/load/run.py --only copy,copy_typed,segwise --compare /tmp/main-worktree
    python bench/load/run.py --lines 10000000 --only copy,segwise --files uci --repeat 1

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


def measure(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> dict[str, float]:
    """Run a child process; wall time and peak RSS of its process tree."""
    started = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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


TYPES = {"Quantity": "integer", "InvoiceDate": "timestamp", "UnitPrice": "numeric"}


def run_copy(data: Path, typed: bool = False) -> dict:
    """psql \\copy into a new table: text columns, or (``typed``) the columns' types (the
    server's DateStyle reads both date spellings)."""
    url = create_db("segwise_bench_copy")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE online_retail ("
            + ", ".join(f'"{c}" {TYPES.get(c, "text") if typed else "text"}' for c in COLUMNS)
            + ")"
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


def run_segwise(data: Path, results: dict, code: Path = ROOT, key: str = "warehouse") -> dict:
    """`segwise load` of ``data`` into a fresh warehouse, with the code of the checkout
    ``code`` (run from there, with this interpreter); the warehouse's counts into
    ``results[key]``."""
    url = create_db("segwise_bench_load")
    try:
        subprocess.run(
            [sys.executable, "-m", "etl.cli", "db", "upgrade", "--database-url", url],
            check=True,
            capture_output=True,
            cwd=code,
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
            ],
            cwd=code,
        )
        with psycopg.connect(url) as conn:
            results[key] = dict(
                zip(
                    ("lines", "orders", "customers", "products", "rejected", "amount"),
                    conn.execute(
                        "SELECT (SELECT count(*) FROM warehouse.fact_order_line), "
                        "(SELECT count(*) FROM warehouse.fact_order), "
                        "(SELECT count(*) FROM warehouse.dim_customer), "
                        "(SELECT count(*) FROM warehouse.dim_product), "
                        "(SELECT count(*) FROM staging.rejected_rows), "
                        "(SELECT sum(amount)::text FROM warehouse.fact_order_line)"
                    ).fetchone(),
                    strict=True,
                )
            )
        return out
    finally:
        drop_db("segwise_bench_load")


def _summary(samples: list[dict], copies: dict[str, list[dict]]) -> dict:
    """Median wall, peak RSS, the walls, and the median of per-run ratios to each COPY (the
    COPY run just before each sample: both saw about the same machine)."""
    out = {
        "wall_s": statistics.median(r["wall_s"] for r in samples),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in samples),
        "walls": [round(r["wall_s"], 2) for r in samples],
    }
    for kind, runs in copies.items():
        if len(runs) == len(samples):
            ratios = [r["wall_s"] / c["wall_s"] for r, c in zip(samples, runs, strict=True)]
            out[f"vs_{kind}"] = statistics.median(ratios)
            out[f"vs_{kind}_runs"] = [round(x, 2) for x in ratios]
    return out


def run(
    lines: int,
    only: set[str],
    workdir: Path,
    repeat: int,
    files: list[str],
    compare: Path | None = None,
) -> dict:
    """Each method ``repeat`` times per file, interleaved (copy, typed copy, segwise and the
    compared code's segwise in turns, then the next file, ...) so a change in the machine's
    load hits them alike; to_sql once per file (it is only a baseline)."""
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "cpus": os.cpu_count(),
        "load_avg_before": os.getloadavg(),
        "repeat": repeat,
        "code": _describe(ROOT),
        "compare": _describe(compare) if compare else None,
        "files": {},
    }
    paths = {}
    for kind in files:
        data = workdir / f"online_retail_{kind}_{lines}.csv"
        t0 = time.perf_counter()
        if not data.exists():
            generate(data, lines, iso=kind == "iso")
        paths[kind] = data
        results["files"][kind] = {
            "lines": sum(1 for _ in data.open("rb")) - 1,
            "bytes": data.stat().st_size,
            "generate_s": time.perf_counter() - t0,
            "samples": {},
        }
    codes = {"segwise": ROOT} | ({"segwise_compare": compare} if compare else {})
    for i in range(repeat):
        for kind, data in paths.items():
            entry = results["files"][kind]
            samples = entry["samples"]
            if "to_sql" in only and "to_sql" not in samples:
                samples["to_sql"] = [run_to_sql(data)]
            if "copy" in only:
                samples.setdefault("copy", []).append(run_copy(data))
            if "copy_typed" in only:
                samples.setdefault("copy_typed", []).append(run_copy(data, typed=True))
            if "segwise" in only:
                # the compared codes take turns at running first after the COPYs (whose
                # checkpoint the first one may pay for)
                for key, code in list(codes.items())[:: -1 if i % 2 else 1]:
                    sample = run_segwise(data, entry, code, key.replace("segwise", "warehouse"))
                    samples.setdefault(key, []).append(sample)
    for entry in results["files"].values():
        samples = entry.pop("samples")
        copies = {k: v for k, v in samples.items() if k in ("copy", "copy_typed")}
        entry["runs"] = {k: _summary(v, copies) for k, v in samples.items()}
    results["load_avg_after"] = os.getloadavg()
    return results


def _describe(code: Path) -> str:
    """The checkout's commit (and '+changes' when its files differ from it)."""
    head = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head + ("+changes" if dirty else "")


def markdown(results: list[dict]) -> str:
    lines = [
        "## Load",
        "",
        "`python bench/load/run.py --lines N`: online_retail-layout files (whole invoices",
        "resampled from the UCI file, latin-1 CSV; `uci`: dates as in the UCI file, `iso`: as",
        "in Online Retail II), loaded several ways as child processes of the script, one after",
        "the other. Peak RSS is the child's process tree (psutil, 50 ms samples); PostgreSQL's",
        "own backend processes are not included. Ratios are medians of per-run ratios against",
        "the COPY of the same file run just before.",
        "",
        "| file | lines | method | wall (median) | vs COPY (text) | vs COPY (typed) | peak RSS "
        "| runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        names = {
            "copy": "bare `psql \\copy` (text table, no indexes)",
            "copy_typed": "bare `psql \\copy` (typed table, no indexes)",
            "to_sql": "`pandas.read_csv` + `DataFrame.to_sql`",
            "segwise": f"`segwise load --layout online_retail` ({r['code']})",
            "segwise_compare": f"`segwise load --layout online_retail` ({r['compare']})",
        }
        for kind, entry in r["files"].items():
            for key, name in names.items():
                run_ = entry["runs"].get(key)
                if not run_:
                    continue
                ratios = [
                    f"{run_[k]:.1f}x" if k in run_ else "-" for k in ("vs_copy", "vs_copy_typed")
                ]
                lines.append(
                    f"| {kind} | {entry['lines']:,} | {name} | {run_['wall_s']:.1f} s | "
                    f"{ratios[0]} | {ratios[1]} | {run_['peak_rss_mb']:,.0f} MB | "
                    f"{', '.join(f'{w:.1f}' for w in run_['walls'])} |"
                )
    lines.append("")
    for r in results:
        before, after = (
            ", ".join(f"{x:.1f}" for x in r[k]) for k in ("load_avg_before", "load_avg_after")
        )
        lines.append(
            f"Load average (1/5/15 min) before: {before}; after: {after}; {r['cpus']} CPUs."
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--only", default="copy,copy_typed,to_sql,segwise")
    ap.add_argument("--files", default="uci,iso", help="uci, iso or both (comma-separated)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of copy and segwise (median)")
    ap.add_argument(
        "--compare", type=Path, help="also time `segwise load` with this checkout's code"
    )
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "segwise_bench")
    ap.add_argument("--json", type=Path, help="append the results to this JSON-lines file")
    ap.add_argument("--keep-data", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    files = [f for f in args.files.split(",") if f]
    if set(files) - {"uci", "iso"}:
        ap.error("--files: uci and/or iso")
    results = run(
        args.lines, set(args.only.split(",")), args.workdir, args.repeat, files, args.compare
    )
    print(json.dumps(results, indent=2, default=str))
    print(markdown([results]))
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps(results, default=str) + "\n")
    if not args.keep_data:
        for kind in files:
            for p in args.workdir.glob(f"online_retail_{kind}_{args.lines}.csv"):
                p.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
