"""litmine's figures in one run and one table, measured side by side on one machine and the same inputs.

    .venv/bin/python benchmarks/bench.py [--quick] [--only PART,...] [--results DIR]
    make bench [BENCH_ARGS=--quick]        litmine bench [--quick]

Parts, each timed on its own: one that fails records null for its figures and says why, and the
others go on.
- nlp: `benchmarks/throughput.py --json [--scaling]` in a new process: the whole pipeline's
  abstracts/s and its ratio to the tokenizer alone, and with --scaling minutes for all abstracts.
- first_build: `last-build.json` in the models folder, written by `litmine models build`:
  minutes, only for a build that started from an empty models folder.
- demo: the demo's two documents through `litmine run --offline` as whole commands in new
  processes (benchmarks/warm_rerun.py): cold (--fresh, litmine's background Prefect server
  stopped first, so the run starts it) and warm (the same again, median of --repeats); the peak
  memory of the run's process tree (below).
- import: records/s of litmine's import (parse and store) of the corpora into an empty store,
  against its ceiling: the rows it wrote, inserted with one plain `executemany` a table into an
  empty store of the same schema.
- entrez: requests per 1,000 records fetched and peak requests/s, as the fake E-utilities server
  (tests/fake_eutils.py) saw them, without an API key, for a run's fetch (the demo documents'
  references, then a search of 50 candidates per uncited sentence) and for one bulk fetch.

--quick skips the slow parts (the scaling run, the cold demo run) and writes DIR/quick.json; a
full run writes DIR/<date>.json and DIR/latest.json (default DIR: benchmarks/results).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psutil
from bench_demo import demo_part
from bench_parts import ROOT, Part, PartFailed, entrez_part, import_part
from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings
from pipeline.outputs.files import write_text

RESULTS = ROOT / "benchmarks" / "results"
PARTS = ("first_build", "import", "entrez", "demo", "nlp")

# figure -> (what it is, the target as (comparison, bound), or None where it has none)
FIGURES: dict[str, tuple[str, tuple[str, float] | None]] = {
    "nlp_full_abstracts_per_s": ("whole pipeline, abstracts/s", (">=", 50)),
    "nlp_full_over_tokenizer": ("whole pipeline / tokenizer alone", None),
    "all_abstracts_minutes": ("all abstracts of the store, minutes", ("<=", 5)),
    "first_build_minutes": ("first `litmine models build`, minutes", None),
    "first_demo_minutes": ("first `make demo`: build + import + cold run, minutes", ("<=", 15)),
    "demo_cold_s": ("demo, `litmine run` cold, s", ("<=", 60)),
    "demo_warm_s": ("demo, `litmine run` warm (cached re-check), s", ("<=", 5)),
    "peak_rss_mb": ("demo, peak memory of the run's processes, MB", ("<", 4096)),
    "import_over_ceiling": ("import records/s / plain executemany", (">=", 0.5)),
    "entrez_requests_per_1000_records": ("a run's fetch, requests per 1,000 records", ("<=", 5)),
    "entrez_peak_requests_per_s": ("Entrez, peak requests/s (no API key)", ("<=", 3)),
}


# ---------------------------------------------------------------- nlp (benchmarks/throughput.py)


NLP_FIGURES = ("nlp_full_abstracts_per_s", "nlp_full_over_tokenizer", "all_abstracts_minutes")


def nlp_part(quick: bool, script: Path = ROOT / "benchmarks" / "throughput.py") -> Part:
    """The throughput script's own JSON, read as it printed it; a figure it lacks stays None."""
    printed = json_of([sys.executable, str(script), "--json", *([] if quick else ["--scaling"])], script.name)
    part = Part({name: number(printed.get(name)) for name in NLP_FIGURES},
                {"nlp": rows_of(printed.get("rows")), "scaling": rows_of(printed.get("scaling"))})
    for name, value in part.figures.items():
        if value is None:
            part.missing[name] = ("skipped: --quick runs no --scaling" if quick and name == "all_abstracts_minutes"
                                  else f"{script.name} --json printed no number for {name}")
    return part


def json_of(command: list[str], name: str) -> dict:
    """The JSON object a command prints on standard output (alone, or as its last line)."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        raise PartFailed(f"{name} exited with status {done.returncode}: {last}")
    for text in (done.stdout, (done.stdout.strip().splitlines() or [""])[-1]):
        try:
            printed = json.loads(text)
        except ValueError:
            continue
        if isinstance(printed, dict):
            return printed
    raise PartFailed(f"{name} printed no JSON object")


def rows_of(value: object) -> list[dict]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# ---------------------------------------------------------------- first build (models/last-build.json)


def first_build_part(models: Path) -> Part:
    """A first build's minutes: `litmine models build` into an empty models folder (`clean`)."""
    path = models / "last-build.json"
    if not path.is_file():
        return Part({"first_build_minutes": None}, missing={
            "first_build_minutes": f"no {path}: `litmine models build` writes it"})
    build = json.loads(path.read_text())
    seconds = number(build.get("seconds"))
    if seconds is None:
        raise PartFailed(f"{path}: no number of seconds")
    models_built = build.get("models")
    row = {"seconds": round(seconds), "clean": build.get("clean"), "jobs": build.get("jobs"),
           "models": len(models_built) if isinstance(models_built, (list, dict)) else models_built}
    if build.get("clean") is not True:
        return Part({"first_build_minutes": None}, {"first_build": [row]}, {
            "first_build_minutes": f"{path}: that build did not start from an empty models folder (clean: "
                                   f"{build.get('clean')}), so it was not a first build"})
    return Part({"first_build_minutes": round(seconds / 60, 1)}, {"first_build": [row]})


# ---------------------------------------------------------------- the harness


def measure(parts: dict[str, Callable[[], Part]], quick: bool, argv: list[str]) -> dict:
    """Every part in turn, each on its own: one that fails leaves its figures None with the reason."""
    dirty, now = git("status", "--porcelain", "--", ".", ":(exclude)benchmarks/results"), datetime.now()
    result: dict = {"date": now.strftime("%Y-%m-%d"), "started_at": now.isoformat(timespec="seconds"),
                    "git_commit": git("rev-parse", "HEAD"), "git_dirty": dirty if dirty is None else bool(dirty),
                    "machine": machine(), "quick": quick, "command": argv}
    figures: dict[str, float | None] = {name: None for name in FIGURES}
    missing: dict[str, str] = {}
    status: dict[str, dict] = {}
    tables: dict[str, list[dict]] = {}
    for name in PARTS:
        if name not in parts:
            status[name] = {"status": "skipped"}
            continue
        started = time.perf_counter()
        try:
            part = parts[name]()
        except PartFailed as exc:
            status[name] = {"status": "failed", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one part's failure must not lose the others
            traceback.print_exc()
            first = str(exc).splitlines()[0] if str(exc) else ""
            status[name] = {"status": "failed", "reason": f"{type(exc).__name__}: {first}".rstrip(": ")}
        else:
            status[name] = {"status": "ok"}
            figures.update(part.figures)
            tables.update(part.tables)
            missing.update(part.missing)
        status[name]["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    derive_first_demo(figures, missing, quick)
    for figure, value in figures.items():
        if value is None and figure in FIGURES and figure not in missing:
            part = owner(figure)
            missing[figure] = (f"part {part} failed: {status[part]['reason']}" if status[part]["status"] == "failed"
                               else f"part {part} not run (--only)")
    result.update(figures)
    result["targets"] = {figure: {"target": f"{target[0]} {target[1]:g}", "holds": holds(figures[figure], target)}
                         for figure, (_, target) in FIGURES.items() if target}
    result.update({"missing": missing,
                   "parts": status, "tables": tables})
    return result


def machine() -> dict:
    return {"cores": os.cpu_count(), "cpu": cpu_model(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "platform": platform.platform(),
            "python": platform.python_version()}


def cpu_model() -> str:
    """The processor's name: builds on one kind of processor give the same models byte for byte
    (`reproducibility.py`), and builds on two kinds have differed (README, "Pharmacology claims")."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                platform.processor())


def derive_first_demo(figures: dict[str, float | None], missing: dict[str, str], quick: bool) -> None:
    """A first `make demo` from its measured steps: the models' build, the corpora's import, the cold run."""
    steps = {"first_build_minutes": figures["first_build_minutes"], "import_seconds": figures.get("import_seconds"),
             "demo_cold_s": figures["demo_cold_s"]}
    if None in steps.values() or quick:
        lacking = ", ".join(k for k, v in steps.items() if v is None) or "a full import (--quick imports less)"
        missing["first_demo_minutes"] = f"needs {lacking}"
        return
    figures["first_demo_minutes"] = round(steps["first_build_minutes"] + steps["import_seconds"] / 60
                                          + steps["demo_cold_s"] / 60, 1)


def owner(figure: str) -> str:
    return ("nlp" if figure in NLP_FIGURES else "first_build" if figure.startswith("first_build")
            else "demo" if figure.startswith(("demo", "peak_rss")) else figure.split("_")[0])


def holds(value: float | None, target: tuple[str, float]) -> bool | None:
    if value is None:
        return None
    comparison, bound = target
    return {">=": value >= bound, "<=": value <= bound, "<": value < bound}[comparison]


def git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def write_results(result: dict, folder: Path) -> list[Path]:
    """Full runs: `<date>.json` and `latest.json`; quick ones `quick.json`; each written whole or not at all."""
    text = json.dumps(result, indent=2) + "\n"
    names = ["quick.json"] if result["quick"] else [f"{result['date']}.json", "latest.json"]
    return [write_text(folder / name, text) for name in names]


def print_tables(result: dict) -> None:
    console = Console(width=160)
    where = result["machine"]
    table = Table("figure", "what", "value", "target", "holds", "why none",
                  title=f"litmine bench {result['date']}, {where['cores']} cores, load "
                        f"{where['load_average_at_start'][0]} at start, commit {(result['git_commit'] or '?')[:8]}")
    for figure, (what, _) in FIGURES.items():
        target = result["targets"].get(figure)
        verdict = {True: "yes", False: "NO", None: "-"}[target["holds"]] if target else ""
        value = result[figure]
        table.add_row(figure, what, "-" if value is None else cell(float(value)), target["target"] if target else "",
                      verdict, result["missing"].get(figure, ""))
    console.print(table)
    for name, rows in result["tables"].items():
        if rows:
            columns = list(dict.fromkeys(key for row in rows for key in row))
            detail = Table(*columns, title=name)
            for row in rows:
                detail.add_row(*(cell(row.get(column)) for column in columns))
            console.print(detail)
    for name, state in result["parts"].items():
        if state["status"] == "failed":
            console.print(f"part {name} failed: {state['reason']}", highlight=False)


def cell(value: object) -> str:
    return "" if value is None else f"{value:,g}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the scaling run and the cold demo run")
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts to run, of {','.join(PARTS)}")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    parser.add_argument("--repeats", type=int, default=3, help="warm demo runs (their median is the figure)")
    args = parser.parse_args()
    chosen = args.only.split(",")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if unknown := set(chosen) - set(PARTS):
        parser.error(f"unknown parts {', '.join(sorted(unknown))}; choose among {', '.join(PARTS)}")
    settings = load_settings()
    corpora = settings.shared / "corpora"

    def entrez() -> Part:
        from pipeline.entities.kb_build import ensure_kb

        return entrez_part(settings, ensure_kb(settings), searches=20, bulk=1000)

    available = {"first_build": lambda: first_build_part(settings.models),
                 "import": lambda: import_part([corpora / "bc5cdr"] if args.quick else [corpora]),
                 "entrez": entrez,
                 "demo": lambda: demo_part(args.quick, args.repeats),
                 "nlp": lambda: nlp_part(args.quick)}
    result = measure({name: available[name] for name in chosen}, args.quick, sys.argv[1:])
    print_tables(result)
    for path in write_results(result, args.results):
        print(f"written: {path}")


if __name__ == "__main__":
    main()
