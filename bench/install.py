"""Set-up you can watch (issue 30 item 5): installing the project into a fresh venv with pip against
uv (installed into the venv with pip, as the Makefile does), both with warm package caches, in one run.

    .venv/bin/python -m bench.install              # medians of 3 (each pip install is about a minute)
    .venv/bin/python -m bench.install --repeats 1

Each contender is warmed once first (its cache filled), then timed from `python -m venv` to an
installed `runner`. Prints the table and writes bench/out/install.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.contenders import REPO

UV_VERSION = "0.13.9"  # the Makefile's
PIP = ["--disable-pip-version-check", "--quiet"]


def fresh_install(installer: str, sources: Path, folder: Path) -> float:
    """Seconds from an empty folder to a venv whose `runner --help` works."""
    venv = folder / f"venv-{installer}"
    shutil.rmtree(venv, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python, pip = venv / "bin" / "python", venv / "bin" / "pip"
    if installer == "uv":
        subprocess.run([pip, "install", *PIP, f"uv=={UV_VERSION}"], check=True, capture_output=True)
        subprocess.run([venv / "bin" / "uv", "pip", "install", "--quiet", "--python", python, "-e", f"{sources}[dev]"],
                       check=True)
    else:
        subprocess.run([pip, "install", *PIP, "-e", f"{sources}[dev]"], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    checked = subprocess.run([venv / "bin" / "runner", "--help"], capture_output=True, text=True, cwd=folder)
    assert checked.returncode == 0, checked.stderr
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-install-") as scratch:
        sources = Path(scratch) / "sources"  # the runner's sources alone: no venv, no data
        shutil.copytree(REPO / "runner", sources / "runner", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REPO / "pyproject.toml", sources)
        for installer in ("pip", "uv"):  # warm each cache
            fresh_install(installer, sources, Path(scratch))
        times = {"pip": [], "uv": []}
        for _ in range(args.repeats):  # interleaved: the machine's speed drifts within a run
            for installer in times:
                times[installer].append(fresh_install(installer, sources, Path(scratch)))
    medians = {installer: statistics.median(values) for installer, values in times.items()}
    print("| installer | median s | runs | ratio to pip |\n| --- | ---: | ---: | ---: |")
    for installer, median in medians.items():
        print(f"| {installer} | {median:.1f} | {len(times[installer])} | {median / medians['pip']:.2f} |")
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "install.json").write_text(json.dumps({"seconds": times, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
