"""How well litmine reads amounts, exposure and system from evidence sentences, per labelled sample.

    .venv/bin/python benchmarks/qualifiers.py [--json]

The samples and how they were made are described in pipeline/evaluation/qualifiers.py; `test`
is the one to quote. Needs the corpora imported (litmine import ../shared/corpora).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings
from pipeline.evaluation.qualifiers import evaluate_qualifiers
from pipeline.records.store import Store

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "relations"
QUALIFIERS = ("amounts", "exposure", "system")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    with Store(load_settings().store_path) as store:
        figures = {path.stem.removeprefix("qualifiers-"): evaluate_qualifiers(path, store)
                   for path in sorted(SAMPLES.glob("qualifiers-*.tsv"))}
    if args.json:
        print(json.dumps({name: f.as_dict() for name, f in figures.items()}, indent=1))
        return
    table = Table(title="Evidence qualifiers on hand-labelled dev-split sentences (150 per sample)")
    for column in ("sample", *(f"{q} P / R (gold)" for q in QUALIFIERS)):
        table.add_column(column)
    for name, f in figures.items():
        table.add_row(name, *(f"{getattr(f, q).precision:.2f} / {getattr(f, q).recall:.2f} ({getattr(f, q).gold})"
                              for q in QUALIFIERS))
    Console().print(table)


if __name__ == "__main__":
    main()
