"""What proving the content costs (issue 28): `runner status` on a warehouse nothing else wrote to
(it counts rows), and `runner status --verify` (it hashes every partition's rows again), against
the single scan of the same files (bench/single_scan.py, the floor of any load), in the same run.

    .venv/bin/python -m bench.content              # 100 days of 100,000 rows, medians of 3
    .venv/bin/python -m bench.content --smoke      # 5 days of 2,000 rows, 1 run (CI)

Prints the medians and the ratios, writes bench/out/content.json; the target: the re-hash under
the single scan's time (ratio below 1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from bench.contenders import BIN, PRODUCT_FILES, REPO, copy_project
from bench.daily import timed
from bench.sample_data import write_days

FIRST_DAY = date(2018, 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="5 days of 2,000 rows, 1 run: the harness, not speed")
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    days, rows, repeats = (5, 2000, 1) if args.smoke else (args.days, args.rows, args.repeats)
    span = ["--start", FIRST_DAY.isoformat(), "--end", (FIRST_DAY + timedelta(days=days - 1)).isoformat()]

    with tempfile.TemporaryDirectory(prefix="bench-content-") as folder:
        root = Path(folder)
        project = copy_project(REPO, PRODUCT_FILES, root / "project")
        source = project / "data" / "source"
        write_days(source, FIRST_DAY, days=days, rows=rows)
        runner = [str(BIN / "runner"), "--project-dir", str(project)]
        timed([*runner, "backfill", *span, "--settle", "0"], project)  # the load itself: untimed
        runs = []
        for n in range(repeats):  # the three side by side, so each sees the machine as the others do
            scan_warehouse = root / f"scan-{n}.duckdb"
            runs.append({
                "status_s": timed([*runner, "status", *span, "--json"], project),
                "verify_s": timed([*runner, "status", *span, "--json", "--verify"], project),
                "single_scan_s": timed([sys.executable, "-m", "bench.single_scan", str(scan_warehouse), str(source)], REPO),
            })
            scan_warehouse.unlink()

    results = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    results |= {"days": days, "rows_per_day": rows, "repeats": repeats, "runs": runs,
                "verify_over_single_scan": results["verify_s"] / results["single_scan_s"],
                "verify_over_status": results["verify_s"] / results["status_s"]}
    print(f"{days} days x {rows} rows, medians of {repeats}: status {results['status_s']:.2f} s, status --verify "
          f"{results['verify_s']:.2f} s, single scan {results['single_scan_s']:.2f} s")
    met = "met" if results["verify_over_single_scan"] < 1 else "missed"
    print(f"  re-hash (status --verify) over the single scan: {results['verify_over_single_scan']:.2f} "
          f"(target < 1: {met}); over status: {results['verify_over_status']:.2f}")
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "content.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
