"""Cold versus warm evidence check on the demo documents.

Prints a table of wall times: the flow alone (Prefect API already up, models
reloaded as a new process would) and the whole `litmine run` command, which
also starts Python and imports Prefect, either with Prefect's temporary API
(`--no-server`) or with litmine's background server, which the first of its
runs starts (stopped at the end).
Cold ignores the search, extraction and verdict caches (--fresh); warm reuses them.

    .venv/bin/python benchmarks/warm_rerun.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flows.prefect_settings import apply_prefect_defaults
from pipeline.config import load_settings

apply_prefect_defaults(load_settings())  # before Prefect is imported

from flows.evidence_check import evidence_check  # noqa: E402
from pipeline.toolkit import open_toolkit
from prefect.testing.utilities import prefect_test_harness


DOCUMENTS = sorted(str(p) for p in (load_settings().shared / "documents").glob("*.txt"))


def flow_seconds(fresh: bool, out: str) -> float:
    open_toolkit.cache_clear()  # as a new process would: KB and models load again
    start = time.perf_counter()
    evidence_check(DOCUMENTS, out=out, offline=True, fresh=fresh)
    return time.perf_counter() - start


def command_seconds(fresh: bool, out: str, *options: str) -> float:
    start = time.perf_counter()
    litmine("run", "--offline", "--out", out, *(["--fresh"] if fresh else []), *options, *DOCUMENTS)
    return time.perf_counter() - start


def litmine(*args: str) -> None:
    """A litmine command in a new process, which finds litmine's server itself (if one runs)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    subprocess.run([sys.executable, "-m", "flows.cli", *args], check=True, capture_output=True, env=env)


def command_row(what: str, repeats: int, out: str, *options: str) -> tuple[str, float, float]:
    cold = [command_seconds(True, out, *options) for _ in range(repeats)]
    warm = [command_seconds(False, out, *options) for _ in range(repeats)]
    return what, statistics.median(cold), statistics.median(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = tempfile.mkdtemp(prefix="litmine-bench-")
    rows = []
    with prefect_test_harness(server_startup_timeout=180):
        flow_seconds(False, out)  # warm-up: imports, API connection
        cold = [flow_seconds(True, out) for _ in range(args.repeats)]
        warm = [flow_seconds(False, out) for _ in range(args.repeats)]
    rows.append(("flow (API up)", statistics.median(cold), statistics.median(warm)))
    rows.append(command_row("litmine run --no-server", args.repeats, out, "--no-server"))
    litmine("server", "stop")  # so that the first run starts the background server
    try:
        started = command_seconds(True, out)
        rows.append(command_row("litmine run (background server)", args.repeats, out))
    finally:
        litmine("server", "stop")
    print(f"documents: {', '.join(Path(d).name for d in DOCUMENTS)}; median of {args.repeats} runs")
    print(f"{'what':32} {'cold s':>8} {'warm s':>8} {'warm/cold':>10}")
    for what, c, w in rows:
        print(f"{what:32} {c:8.2f} {w:8.2f} {w / c:10.0%}")
    print(f"the cold run that started the background server: {started:.2f} s")


if __name__ == "__main__":
    main()
