"""The backfill benchmark (issue 4): every contender side by side on the same seeded daily files.

    .venv/bin/python -m bench.run                 # full: 365x2000, 730x2000, 30x100000; 3 repeats
    .venv/bin/python -m bench.run --smoke         # tiny, 1 repeat, about a minute (CI)
    .venv/bin/python -m bench.run --workloads 365x2000 --repeats 1

Prints a table per workload (medians of the repeats) with each contender's ratios to the baselines,
the targets of the issue, the first-half/second-half cost of the runner's backfill, and the
correctness checks; writes the same as JSON. Exits 1 when a contender fails or a check fails;
a missed speed target is reported, not an error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import checks
from bench.contenders import (
    BASELINES,
    BEFORE,
    BIN,
    ORDER,
    REPO,
    RUNNERS,
    Workload,
    chunk_size_supported,
    label,
    make_templates,
    plan,
    sweep_name,
)
from bench.measure import run_all

FULL_WORKLOADS = ["365x2000", "730x2000", "30x100000", "100x100000"]
SMOKE_WORKLOAD = "10x200"
# Issue 20's targets: (numerator, denominator, limit, the workloads it is for; None: every one), a
# ratio of the runner's ms per partition to a baseline's.
TARGETS = {
    "batched <= 0.5x dbt microbatch": ("runner_batched", "dbt_microbatch", 0.5, None),
    "batched <= 0.2x dbt microbatch": ("runner_batched", "dbt_microbatch", 0.2, {"365x2000"}),
    "batched <= 1.0x plain DuckDB loop": ("runner_batched", "duckdb_loop", 1.0, {"365x2000"}),
    "batched <= 1.2x plain DuckDB loop": ("runner_batched", "duckdb_loop", 1.2, {"100x100000"}),
    "batched <= 2.5x single query": ("runner_batched", "single_scan", 2.5, {"100x100000"}),
    "per-partition >= 12x faster than a process per partition": ("runner_per_partition", "dbt_process_loop", 1 / 12, None),
    # Issue 30 (item 4): large days at half of microbatch, near the single query.
    "batched <= 1.5x single query": ("runner_batched", "single_scan", 1.5, {"30x100000", "100x100000"}),
}
RSS_LIMIT_MB = 500
HALVES_TOLERANCE = 1.10  # second half at most 10% slower per partition than the first (timing noise)


def parse_workload(text: str, process_loop_days: int, per_partition_days: int) -> Workload:
    try:
        days, rows = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a workload is DAYSxROWS, for example 365x2000, not {text!r}") from None
    return Workload(days, rows, process_loop_days, per_partition_days)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny run for CI: {SMOKE_WORKLOAD}, 3 days for the process loop and the per-partition mode, 1 repeat")
    parser.add_argument("--workloads", help=f"comma-separated DAYSxROWS (default: {','.join(FULL_WORKLOADS)})")
    parser.add_argument("--repeats", type=int, help="runs of each contender; the median is reported (default 3, smoke 1)")
    parser.add_argument("--contenders", help=f"comma-separated subset of: {','.join(ORDER)} (default: all)")
    parser.add_argument("--process-loop-days", type=int, help="partitions of the process-per-partition loop (default 10, smoke 3)")
    parser.add_argument("--per-partition-days", type=int,
                        help="partitions of the runner's per-partition mode, the first of each workload (default 30, smoke 3)")
    parser.add_argument("--chunk-sizes", help="comma-separated chunk sizes to run the runner with as well (runner_chunk_N), "
                        "to choose the default from measurements; for example 7,30,90,365")
    parser.add_argument("--chunk-mbs", help="comma-separated --chunk-mb values to run the runner with as well (runner_mb_N), "
                        "to choose that default; for example 48,96,1000")
    parser.add_argument("--before", metavar="REV",
                        help="also run the runner modes on the project files (models, macros, ...) of this git revision "
                             "(before_runner_batched, before_runner_per_partition): a change measured against the project "
                             "before it in one run; for example HEAD")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic data (default 7)")
    parser.add_argument("--out", type=Path, help="JSON results (default bench/out/results.json, smoke bench/out/smoke.json)")
    parser.add_argument("--data-dir", type=Path, default=REPO / "bench" / "out" / "data",
                        help="cache of generated daily files, one folder per workload and seed")
    parser.add_argument("--cold", action="store_true", help="start every dbt project unparsed (default: parsed first, untimed)")
    parser.add_argument("--keep", action="store_true", help="keep the run folders (warehouses, logs) and print where")
    args = parser.parse_args(argv)
    # `is None`, not `or`: an explicit 0 is refused below, not replaced by the default.
    args.repeats = (1 if args.smoke else 3) if args.repeats is None else args.repeats
    args.process_loop_days = (3 if args.smoke else 10) if args.process_loop_days is None else args.process_loop_days
    args.per_partition_days = (3 if args.smoke else 30) if args.per_partition_days is None else args.per_partition_days
    names = args.workloads.split(",") if args.workloads else [SMOKE_WORKLOAD] if args.smoke else FULL_WORKLOADS
    if min(args.repeats, args.process_loop_days, args.per_partition_days) < 1:
        parser.error("--repeats, --process-loop-days and --per-partition-days are at least 1")
    args.workloads = [parse_workload(name.strip(), args.process_loop_days, args.per_partition_days) for name in names]
    args.contenders = [name.strip() for name in args.contenders.split(",")] if args.contenders else list(ORDER)
    unknown = set(args.contenders) - set(ORDER)
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))}")
    args.contenders = [name for name in ORDER if name in args.contenders]
    if args.before:
        if subprocess.run(["git", "rev-parse", "--verify", "--quiet", args.before + "^{commit}"], cwd=REPO,
                          capture_output=True).returncode:
            parser.error(f"--before: no such git revision: {args.before}")
        args.contenders += [BEFORE + name for name in RUNNERS if name in args.contenders]
    try:
        sizes = [int(size) for size in args.chunk_sizes.split(",")] if args.chunk_sizes else []
    except ValueError:
        parser.error(f"--chunk-sizes is a comma list of whole numbers, not {args.chunk_sizes!r}")
    if any(size < 1 for size in sizes):
        parser.error("--chunk-sizes: every size is at least 1")
    megabytes = [text.strip() for text in args.chunk_mbs.split(",")] if args.chunk_mbs else []
    if not all(re.fullmatch(r"[0-9]*\.?[0-9]+", text) and float(text) > 0 for text in megabytes):
        parser.error(f"--chunk-mbs is a comma list of numbers above 0, not {args.chunk_mbs!r}")
    args.contenders += [sweep_name("--chunk-size", str(size)) for size in sizes]
    args.contenders += [sweep_name("--chunk-mb", text) for text in megabytes]
    args.out = args.out or REPO / "bench" / "out" / ("smoke.json" if args.smoke else "results.json")
    return args


def source_files(data_dir: Path, workload: Workload, seed: int) -> Path:
    """The workload's daily files, generated once (write_days is deterministic) and cached."""
    from bench.sample_data import write_days

    folder = (data_dir / f"{workload.name}-seed{seed}").resolve()
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {workload.days} files of {workload.rows} rows (seed {seed}) in {folder}", flush=True)
        write_days(folder, workload.first_day, workload.days, workload.rows, seed)
        marker.touch()
    return folder


def child_env(repo: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("WAREHOUSE_PATH", "LEDGER_PATH", "DBT_TARGET")}
    env["PYTHONPATH"] = str(repo)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


def run_workload(workload: Workload, args: argparse.Namespace, chunked: bool, scratch: Path) -> dict:
    source_dir = source_files(args.data_dir, workload, args.seed)
    env = child_env(REPO)
    root = scratch / workload.name
    root.mkdir()
    templates = make_templates(root, args.before)
    runs: dict[str, list[dict]] = {}
    partitions: dict[str, int] = {}
    all_checks, half_seconds = [], {}
    for repeat in range(args.repeats):
        plans = {}
        for name in args.contenders:
            folder = root / f"repeat{repeat + 1}" / name
            contender = plan(name, folder, workload, source_dir, templates, chunked, warm=not args.cold)
            if contender is None:
                continue
            run_env = {**env, "WAREHOUSE_PATH": str(contender.warehouse)}
            if contender.ledger:
                run_env["LEDGER_PATH"] = str(contender.ledger)
            if contender.setup:
                setup = run_all(contender.setup, folder, run_env, folder / "setup.log")
                if setup.exit_code:
                    raise RuntimeError(f"{name}: set-up failed, see {setup.log}")
                for path in contender.reset:
                    path.unlink(missing_ok=True)
            measured = run_all(contender.commands, folder, run_env, folder / "output.log")
            partitions[name] = contender.partitions
            runs.setdefault(name, []).append(
                {"seconds": round(measured.seconds, 3), "peak_rss_mb": round(measured.peak_rss_mb, 1), "exit_code": measured.exit_code}
            )
            status = "ok" if measured.exit_code == 0 else f"FAILED (exit {measured.exit_code}, log {measured.log})"
            print(f"  {workload.name} run {repeat + 1}/{args.repeats}  {name:<22} {measured.seconds:8.2f} s  "
                  f"{measured.peak_rss_mb:7.1f} MB  {status}", flush=True)
            if measured.exit_code == 0:
                plans[name] = contender
                if contender.ledger:
                    half_seconds.setdefault(name, []).append(checks.ledger_partition_seconds(contender.ledger))
                elif contender.timings:
                    half_seconds.setdefault(name, []).append(json.loads(contender.timings.read_text()))
        for check in checks.check_repeat(plans, workload, source_dir, env):
            all_checks.append({**check, "repeat": repeat + 1})
        if not args.keep:
            shutil.rmtree(root / f"repeat{repeat + 1}")
    return summarise(workload, runs, partitions, all_checks, half_seconds)


def summarise(workload: Workload, runs: dict, partitions: dict, all_checks: list, half_seconds: dict) -> dict:
    contenders = {}
    for name, measured in runs.items():
        seconds = statistics.median(run["seconds"] for run in measured)
        contenders[name] = {
            "label": label(name),
            "partitions": partitions[name],
            "runs": measured,
            "failed_runs": sum(1 for run in measured if run["exit_code"] != 0),
            "median_seconds": round(seconds, 3),
            "ms_per_partition": round(1000 * seconds / partitions[name], 2),
            "median_peak_rss_mb": round(statistics.median(run["peak_rss_mb"] for run in measured), 1),
            "max_peak_rss_mb": max(run["peak_rss_mb"] for run in measured),
        }
    for entry in contenders.values():
        entry["ratios"] = {
            baseline: round(entry["ms_per_partition"] / contenders[baseline]["ms_per_partition"], 4)
            for baseline in BASELINES if baseline in contenders and contenders[baseline]["ms_per_partition"]
        }
    targets = []
    for target, (name, baseline, limit, workloads) in TARGETS.items():
        if name in contenders and baseline in contenders and (workloads is None or workload.name in workloads):
            ratio = contenders[name]["ms_per_partition"] / contenders[baseline]["ms_per_partition"]
            shown = f"{1 / ratio:.1f}x faster" if limit < 1 and baseline == "dbt_process_loop" else f"{ratio:.3f}x"
            targets.append({"target": target, "ok": ratio <= limit, "value": round(ratio, 4), "shown": shown})
    for name in RUNNERS:
        if name in contenders:
            rss = contenders[name]["max_peak_rss_mb"]
            targets.append({"target": f"{name} peak RSS <= {RSS_LIMIT_MB} MB", "ok": rss <= RSS_LIMIT_MB, "value": rss,
                            "shown": f"{rss:.0f} MB"})
    versus_before = {name: round(contenders[name]["ms_per_partition"] / contenders[BEFORE + name]["ms_per_partition"], 4)
                     for name in RUNNERS if name in contenders and BEFORE + name in contenders}
    halves = {}
    for name, per_run in half_seconds.items():
        measured = [found for found in (checks.halves(seconds) for seconds in per_run) if found]
        if measured:
            halves[name] = {key: round(statistics.median(found[key] for found in measured), 3) for key in measured[0]}
    return {"workload": workload.name, "days": workload.days, "rows": workload.rows, "contenders": contenders,
            "targets": targets, "halves": halves, "checks": all_checks, "versus_before": versus_before}


def cross_workload_targets(results: list[dict]) -> list[dict]:
    """Peak RSS the same (within 10%) at 365 and 730 partitions; the 730-day backfill's second half no
    slower. Only for a runner that loaded every day of both (not the per-partition mode on its first days)."""
    targets = []
    by_name = {result["workload"]: result for result in results}
    short, long = by_name.get("365x2000"), by_name.get("730x2000")
    if not (short and long):
        return targets
    for name in RUNNERS:
        if name not in short["contenders"] or name not in long["contenders"]:
            continue
        small, large = short["contenders"][name], long["contenders"][name]
        if (small["partitions"], large["partitions"]) != (short["days"], long["days"]):
            continue
        ratio = large["median_peak_rss_mb"] / small["median_peak_rss_mb"]
        targets.append({"target": f"{name} peak RSS 730 vs 365 partitions within 10%", "ok": abs(ratio - 1) <= 0.10,
                        "value": round(ratio, 3),
                        "shown": f"{large['median_peak_rss_mb']:.0f} / {small['median_peak_rss_mb']:.0f} MB = {ratio:.2f}"})
        if name in long["halves"]:
            ratio = long["halves"][name]["second_over_first"]
            targets.append({"target": f"{name} 730 days: second half per partition <= first (+10% noise)",
                            "ok": ratio is not None and ratio <= HALVES_TOLERANCE, "value": ratio, "shown": f"{ratio:.2f}x"})
    return targets


def table(result: dict) -> str:
    baselines = [name for name in BASELINES if name in result["contenders"]]
    header = ["contender", "parts", "wall s", "ms/part", "peak MB", *[f"x {name}" for name in baselines]]
    rows = []
    for name, entry in result["contenders"].items():
        failed = f" ({entry['failed_runs']} failed)" if entry["failed_runs"] else ""
        ratios = [f"{entry['ratios'][baseline]:.3f}" if baseline in entry["ratios"] else "-" for baseline in baselines]
        rows.append([name + failed, str(entry["partitions"]), f"{entry['median_seconds']:.2f}", f"{entry['ms_per_partition']:.1f}",
                     f"{entry['median_peak_rss_mb']:.0f}", *ratios])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in [header, *rows]]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def report(results: list[dict], cross: list[dict], args: argparse.Namespace) -> str:
    lines = []
    for result in results:
        lines += ["", f"== {result['workload']}: {result['days']} days x {result['rows']} rows, median of {args.repeats} run(s) ==",
                  table(result), "(ratios: ms per partition over the baseline's; the process loop and the per-partition "
                  "mode run the first days only, the parts column)"]
        for name, found in result["halves"].items():
            lines.append(f"  {name}: first half {found['first_half_ms_per_partition']:.1f} ms/partition, "
                         f"second half {found['second_half_ms_per_partition']:.1f} ms/partition ({found['second_over_first']:.2f}x)")
        for name, ratio in result.get("versus_before", {}).items():
            lines.append(f"  {name}: {ratio:.3f}x the same runner on the project before")
        for target in result["targets"]:
            lines.append(f"  target {'met    ' if target['ok'] else 'NOT MET'}  {target['target']}: {target['shown']}")
        failed = [check for check in result["checks"] if not check["ok"]]
        lines.append(f"  checks: {len(result['checks']) - len(failed)} of {len(result['checks'])} passed")
        for check in failed:
            lines.append(f"  CHECK FAILED (run {check['repeat']}): {check['check']}: {check['detail']}")
    if cross:
        lines += ["", "== across workloads =="]
        lines += [f"  target {'met    ' if target['ok'] else 'NOT MET'}  {target['target']}: {target['shown']}" for target in cross]
    return "\n".join(lines)


def versions() -> dict:
    def output(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return ""

    import duckdb
    from dbt.version import __version__ as dbt_version

    return {"python": platform.python_version(), "duckdb": duckdb.__version__, "dbt_core": dbt_version,
            "git_commit": output(["git", "rev-parse", "--short", "HEAD"]),
            "git_dirty": bool(output(["git", "status", "--porcelain", "--", "runner", "models", "macros", "bench"]))}


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    chunked = chunk_size_supported()
    if not chunked:
        print("this runner has no --chunk-size: per-partition mode only, the batched mode is skipped", flush=True)
    meta = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(), "repeats": args.repeats, "seed": args.seed, "smoke": args.smoke,
            "warm_start": not args.cold, "runner_has_chunk_size": chunked, "runner": str(BIN / "runner"), **versions()}
    if args.before:
        meta["before"] = subprocess.run(["git", "rev-parse", "--short", args.before], cwd=REPO, capture_output=True,
                                        text=True).stdout.strip()
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        results = [run_workload(workload, args, chunked, scratch) for workload in args.workloads]
    finally:
        if args.keep:
            print(f"run folders kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    cross = cross_workload_targets(results)
    meta.update(load_average_at_end=os.getloadavg(), total_seconds=round(time.perf_counter() - started, 1))
    failed_checks = [check for result in results for check in result["checks"] if not check["ok"]]
    failed_runs = [name for result in results for name, entry in result["contenders"].items() if entry["failed_runs"]]
    ok = not failed_checks and not failed_runs
    print(report(results, cross, args))
    print(f"\nload average at start {meta['load_average_at_start'][0]:.1f}, at end {meta['load_average_at_end'][0]:.1f} "
          f"on {meta['cpus']} CPUs; {meta['total_seconds']:.0f} s in all")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "ok": ok, "workloads": results, "targets_across_workloads": cross}, indent=2) + "\n")
    print(f"wrote {args.out}")
    if not ok:
        print(f"FAILED: {len(failed_runs)} contender(s) failed, {len(failed_checks)} check(s) failed", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
