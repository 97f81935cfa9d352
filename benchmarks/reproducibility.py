"""Is litmine's training reproducible? Builds the models twice, each build in a fresh process
with its own PYTHONHASHSEED, then compares the two builds file by file and by what they predict.

    .venv/bin/python benchmarks/reproducibility.py [--full] [--work DIR] [--documents N]

The reduced (CI) recipe by default, the full one (`make models`) with --full. Both builds read
one store holding the corpora they train on (imported into DIR/data, or the project's store
with --full). Predictions: the entities and relations the pipeline finds in the two shared
documents and in the first N BC5CDR and BioRED test abstracts. Prints a table of what
differs; exits 1 if anything does.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings

LITMINE = Path(sys.executable).with_name("litmine")
SEEDS = (1, 2)
CORPORA = ("bc5cdr", "biored", "nlm_gene", "drugprot")  # what the models train on

PREDICT = """
import json, sys
from pipeline.config import load_settings
from pipeline.datatypes import Record
from pipeline.entities.kb_build import ensure_kb
from pipeline.entities.ner import PipelineTagger
from pipeline.models import current_relation_models
from pipeline.records.store import Store
from pipeline.relations.dependencies import DependencyParser
from pipeline.relations.model import ModelExtractor
from pipeline.verdicts.evidence import extract_record

settings = load_settings()
kb = ensure_kb(settings)
tagger = PipelineTagger.load(settings, kb)
extractor = ModelExtractor.load(current_relation_models(settings), DependencyParser.load(settings))
texts = {p.name: p.read_text(encoding="utf-8") for p in sorted((settings.shared / "documents").glob("*.txt"))}
with Store(settings.store_path) as store:
    for corpus in ("bc5cdr", "biored"):
        texts |= {f"{corpus}:{d.doc_id}": d.text for d in store.gold_documents(corpus, "test")[:int(sys.argv[1])]}
found = {}
for name, text in texts.items():
    extracted = extract_record(Record(uid=name, title=text), tagger, extractor)
    found[name] = {"mentions": [[m.start, m.end, m.type, m.id] for _, ms in extracted.sentences for m in ms],
                   "relations": [[r.sentence_index, r.subject.text, r.relation, r.object.text, r.confidence]
                                 for r in extracted.relations]}
print(json.dumps(found))
"""


def litmine(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(LITMINE), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def digests(models: Path) -> dict[str, str]:
    """Every file of a build by its path under the models folder, hashed, less what records
    where and how long rather than what was learned: the build's own folder in paths, and
    build.json's wall times."""
    found = {}
    for path in sorted(p for p in models.rglob("*") if p.is_file()):
        data = path.read_bytes().replace(str(models).encode(), b"MODELS")
        if path.name == "build.json":
            data = re.sub(rb'"seconds": [0-9.]+', b'"seconds": 0', data)
        found[str(path.relative_to(models))] = hashlib.sha256(data).hexdigest()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full recipe, not the reduced one")
    parser.add_argument("--work", type=Path, help="where the builds go (default: a temporary folder)")
    parser.add_argument("--documents", type=int, default=100, help="test abstracts per corpus to predict on")
    args = parser.parse_args()
    settings = load_settings()
    work = args.work or Path(tempfile.mkdtemp(prefix="litmine-repro-"))
    env = {**os.environ, "LITMINE_SHARED": str(settings.shared)}
    if args.full:
        env["LITMINE_DATA"] = str(settings.data)
    else:
        env["LITMINE_DATA"] = str(work / "data")
        litmine("import", "--no-progress", *(str(settings.shared / "corpora" / c) for c in CORPORA), env=env)
    litmine("kb", env=env)
    builds, predictions = {}, {}
    for seed in SEEDS:
        models = work / f"models-{seed}"
        run_env = {**env, "LITMINE_MODELS": str(models), "PYTHONHASHSEED": str(seed)}
        print(f"build {seed}: PYTHONHASHSEED={seed} -> {models}", file=sys.stderr, flush=True)
        litmine("models", "build", *([] if args.full else ["--reduced"]), env=run_env)
        builds[seed] = digests(models)
        output = subprocess.run([sys.executable, "-c", PREDICT, str(args.documents)], env=run_env, check=True,
                                capture_output=True, text=True).stdout
        predictions[seed] = json.loads(output)
    first, second = (builds[s] for s in SEEDS)
    differing_files = sorted(p for p in first.keys() | second.keys() if first.get(p) != second.get(p))
    one, two = (predictions[s] for s in SEEDS)
    differing_docs = sorted(n for n in one.keys() | two.keys() if one.get(n) != two.get(n))
    table = Table("compared", "total", "differing", "first differing",
                  title=f"{'full' if args.full else 'reduced'} builds, PYTHONHASHSEED {SEEDS[0]} vs {SEEDS[1]}")
    table.add_row("model files", str(len(first)), str(len(differing_files)), ", ".join(differing_files[:3]))
    table.add_row("documents (entities, relations)", str(len(one)), str(len(differing_docs)),
                  ", ".join(differing_docs[:3]))
    Console().print(table)
    sys.exit(1 if differing_files or differing_docs else 0)


if __name__ == "__main__":
    main()
