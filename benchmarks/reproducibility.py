"""Is litmine's training reproducible? Builds the models twice, each build in a fresh process
with its own PYTHONHASHSEED, then compares the two builds file by file and by what they predict.

    .venv/bin/python benchmarks/reproducibility.py [--full] [--work DIR] [--documents N] [--seeds 1 2] [--jobs 1 2]

The reduced (CI) recipe by default, the full one (`make models`) with --full. Both builds read
one store holding the corpora they train on (imported into DIR/data, or the project's store
with --full). Predictions: the entities and relations the pipeline finds in the two shared
documents and in the first N BC5CDR and BioRED test abstracts. Each build's file digests and
predictions are saved beside it (DIR/models-SEED.json), and a build already there is not
made again, so builds made by different checkouts of litmine (before and after a change that
should not change what is learned) compare too. `--jobs A B` builds the first with `--jobs A`
and the second with `--jobs B` (a serial and a parallel build should give the same files).
Model keys (folder names) are compared apart from the files. Prints a table of what differs; exits 1 if anything does.
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
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings
from pipeline.training.build import SUMMARY

LITMINE = Path(sys.executable).with_name("litmine")
CORPORA = ("bc5cdr", "biored", "nlm_gene", "drugprot", "scifact")  # what the models train on

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


# Folder names that are keys: <model>/<key>/, relations/<corpus>-<key>, linker/<KB version>,
# pipeline/pipeline-<key>+kb-<KB version>/.
KEY_FOLDER = re.compile(r"^(?:\w+/([0-9a-f]{12})/|relations/\w+-([0-9a-f]{12})|linker/([0-9a-f]{16})/"
                        r"|pipeline/pipeline-([0-9a-f]{12})\+kb-([0-9a-f]{16})/)")


def digests(models: Path) -> tuple[dict[str, str], list[str]]:
    """Every file of a build, hashed, by its path under the models folder with keys replaced by
    KEY; and the keys. Left out of the hash: what says where and how long rather than what was
    learned (the build's folder and keys in paths, build.json's wall times, the build's own record)."""
    files = sorted(str(p.relative_to(models)) for p in models.rglob("*") if p.is_file() and p.name != SUMMARY)
    keys = sorted({k for f in files if (m := KEY_FOLDER.match(f)) for k in m.groups() if k})
    found = {}
    for name in files:
        data = (models / name).read_bytes().replace(str(models).encode(), b"MODELS")
        if name.endswith("build.json"):
            data = re.sub(rb'"seconds": [0-9.]+', b'"seconds": 0', data)
        for key in keys:
            data, name = data.replace(key.encode(), b"KEY"), name.replace(key, "KEY")
        found[name] = hashlib.sha256(data).hexdigest()
    return found, keys


def build(seed: int, work: Path, env: dict[str, str], full: bool, documents: int, jobs: int | None) -> dict:
    """Build the models with PYTHONHASHSEED=`seed`, `jobs` at a time, into work/models-SEED (unless
    saved already) and save their digests, keys, predictions and wall seconds in work/models-SEED.json."""
    saved = work / f"models-{seed}.json"
    if saved.is_file():
        return json.loads(saved.read_text())
    models = work / f"models-{seed}"
    run_env = {**env, "LITMINE_MODELS": str(models), "PYTHONHASHSEED": str(seed)}
    print(f"build {seed}: PYTHONHASHSEED={seed} -> {models}", file=sys.stderr, flush=True)
    started = time.monotonic()
    litmine("models", "build", *([] if full else ["--reduced"]), *([f"--jobs={jobs}"] if jobs else []), env=run_env)
    seconds = time.monotonic() - started
    files, keys = digests(models)
    output = subprocess.run([sys.executable, "-c", PREDICT, str(documents)], env=run_env, check=True,
                            capture_output=True, text=True).stdout
    result = {"files": files, "keys": keys, "predictions": json.loads(output), "jobs": jobs, "seconds": seconds}
    saved.write_text(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full recipe, not the reduced one")
    parser.add_argument("--work", type=Path, help="where the builds go (default: a temporary folder)")
    parser.add_argument("--documents", type=int, default=100, help="test abstracts per corpus to predict on")
    parser.add_argument("--seeds", type=int, nargs=2, default=(1, 2), help="the two builds' PYTHONHASHSEED")
    parser.add_argument("--jobs", type=int, nargs=2, default=(None, None),
                        help="the two builds' --jobs (default: the usable cores)")
    args = parser.parse_args()
    settings = load_settings()
    work = args.work or Path(tempfile.mkdtemp(prefix="litmine-repro-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LITMINE_SHARED": str(settings.shared)}
    if args.full:
        env["LITMINE_DATA"] = str(settings.data)
    else:
        env["LITMINE_DATA"] = str(work / "data")
        litmine("import", "--no-progress", *(str(settings.shared / "corpora" / c) for c in CORPORA), env=env)
    litmine("kb", env=env)
    one, two = (build(seed, work, env, args.full, args.documents, jobs) for seed, jobs in zip(args.seeds, args.jobs))
    differing_files = sorted(p for p in one["files"].keys() | two["files"].keys()
                             if one["files"].get(p) != two["files"].get(p))
    predicted = one["predictions"], two["predictions"]
    differing_docs = sorted(n for n in predicted[0].keys() | predicted[1].keys()
                            if predicted[0].get(n) != predicted[1].get(n))
    table = Table("compared", "total", "differing", "first differing", title=(
        f"{'full' if args.full else 'reduced'} builds, PYTHONHASHSEED {args.seeds[0]} vs {args.seeds[1]}, "
        f"--jobs {one.get('jobs') or 'default'} vs {two.get('jobs') or 'default'}"))
    table.add_row("model files", str(len(one["files"])), str(len(differing_files)), ", ".join(differing_files[:3]))
    table.add_row("documents (entities, relations)", str(len(predicted[0])), str(len(differing_docs)),
                  ", ".join(differing_docs[:3]))
    table.add_row("model keys", str(len(one["keys"])), str(len(set(one["keys"]) ^ set(two["keys"])) // 2), "")
    table.add_row("build wall seconds", f"{one.get('seconds', 0):.0f} vs {two.get('seconds', 0):.0f}", "", "")
    Console().print(table)
    sys.exit(1 if differing_files or differing_docs else 0)


if __name__ == "__main__":
    main()
