"""Deterministic daily quote files, realistic and a little messy, for samples and benchmarks.

Each file is one day's quotes: ``date,share_price,amount,spend,shift,spread`` (close, volume,
open, high, low). Some files quote their header, write dates as ``YYYY/MM/DD``, carry rows dated
a few trading days before the file (late corrections) or end without a newline.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

HEADER = "date,share_price,amount,spend,shift,spread"
QUOTED_HEADER = ",".join(f'"{name}"' for name in HEADER.split(","))


def day_rows(day: date, rows: int, rng: random.Random) -> list[str]:
    """The CSV lines of one day's quotes (without the header)."""
    lines = []
    price = rng.uniform(20, 400)
    for _ in range(rows):
        # Most rows trade on the file's day; some are corrections for a few days before.
        trade_day = day - timedelta(days=rng.choice((0, 0, 0, 0, 1, 2, 3)))
        date_text = trade_day.strftime("%Y/%m/%d" if rng.random() < 0.2 else "%Y-%m-%d")
        open_price = price
        close_price = max(0.01, open_price * rng.uniform(0.97, 1.03))
        high_price = max(open_price, close_price) * rng.uniform(1.0, 1.02)
        low_price = min(open_price, close_price) * rng.uniform(0.98, 1.0)
        volume = rng.randrange(10_000, 60_000_000)
        lines.append(
            f"{date_text},{close_price:.4f},{volume}.0000,{open_price:.4f},"
            f"{high_price:.4f},{low_price:.4f}"
        )
        price = close_price
    return lines


def write_days(out_dir: Path, start: date, days: int, rows: int, seed: int = 7) -> list[Path]:
    """Write ``days`` daily files from ``start``; the same arguments always give the same bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        rng = random.Random(f"{seed}:{day.isoformat()}")
        header = QUOTED_HEADER if rng.random() < 0.3 else HEADER
        ending = "" if rng.random() < 0.3 else "\n"
        path = out_dir / f"{day.isoformat()}.csv"
        path.write_text("\n".join([header, *day_rows(day, rows, rng)]) + ending)
        paths.append(path)
    return paths
