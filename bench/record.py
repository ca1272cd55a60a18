"""The recorded bench figures (bench/figures.json): each run compared with them, moves flagged.

Every bench script ends with ``report(figures, record=args.record)``: it prints each figure
beside the recorded one with the change, and flags any that moved more than 20 % (worse or
better: a figure much better than its record is worth a look too). ``--record`` (add it with
``add_record_option``) writes the figures just measured into the file as the new record, with
the machine they were measured on; figures of other scripts in the file are left as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

FIGURES = Path(__file__).resolve().with_name("figures.json")
MOVE = 0.20  # a change larger than this (either way) is flagged


@dataclass(frozen=True)
class Figure:
    name: str  # dotted, script first: "upload.total"
    value: float
    unit: str
    better: str = "lower"  # or "higher"


def add_record_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"write the figures measured as the new record in {FIGURES.name}",
    )


def machine() -> str:
    """The machine a figure was measured on, as the record notes it."""
    model = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return f"{model}, {os.cpu_count()} cores, load {load:.1f}"


def moved(figure: Figure, recorded: float) -> str:
    """'' when within 20 % of the record, else 'MOVED >20% (worse)' or '(better)'."""
    if recorded == 0:
        return ""
    change = figure.value / recorded - 1
    if abs(change) <= MOVE:
        return ""
    worse = change > 0 if figure.better == "lower" else change < 0
    return f"MOVED >20% ({'worse' if worse else 'better'})"


def report(figures: list[Figure], *, record: bool = False, path: Path = FIGURES) -> list[str]:
    """Print the figures against the record; return the names of those that moved >20 %."""
    recorded = json.loads(path.read_text()) if path.exists() else {}
    print(f"\n  {'figure':<34} {'now':>10} {'recorded':>10} {'change':>8}")
    flagged = []
    for figure in figures:
        old = recorded.get(figure.name)
        now = f"{figure.value:.4g} {figure.unit}"
        if old is None:
            print(f"  {figure.name:<34} {now:>10} {'-':>10} {'new':>8}")
            continue
        change = f"{(figure.value / old['value'] - 1) * 100:+.0f}%" if old["value"] else "-"
        flag = moved(figure, old["value"])
        if flag:
            flagged.append(figure.name)
        print(f"  {figure.name:<34} {now:>10} {old['value']:>10.4g} {change:>8}  {flag}")
    if flagged:
        print(f"  {len(flagged)} figure(s) moved more than {MOVE:.0%}: {', '.join(flagged)}")
    if record:
        note = {"machine": machine(), "recorded": time.strftime("%Y-%m-%d")}
        for figure in figures:
            recorded[figure.name] = {
                "value": round(figure.value, 4),
                "unit": figure.unit,
                "better": figure.better,
                **note,
            }
        path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        print(f"  recorded {len(figures)} figure(s) in {path.name}")
    return flagged
