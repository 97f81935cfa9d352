"""Training litmine's spaCy pipelines from the shared gold corpora, the way scispaCy does.

The configs in pipeline/configs/ are the single source of truth for how a model is
trained; this module only turns the corpora into spaCy's DocBin files, keys each model by
a hash of its config, data, KB and code, and runs ``spacy train`` when that key has no
model yet, so later builds reuse what is there.

NER models follow the corpora's guidelines, one model per guideline family, as scispaCy
ships en_ner_bc5cdr_md beside en_ner_bionlp13cg_md: mixing corpora that annotate
different types in one model would teach it that every unannotated gene in BC5CDR is
"not an entity". The type mapping into litmine's five types is explicit in NER_TYPES.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from threadpoolctl import threadpool_limits

from pipeline import corpora
from pipeline.codehash import code_hash
from pipeline.config import CONFIG_DIR, Settings
from pipeline.corpora import NER_TYPES
from pipeline.datatypes import GoldDocument
from pipeline.entities import dictionary as entities, nlp
from pipeline.entities.kb import KnowledgeBase
from pipeline.records.store import Store


HELD_OUT_EVERY = 10  # corpora without a dev split (NLM-Gene) lend every 10th train document to one
# Treebanks for the tagger and parser. CRAFT has no official split here: of its 97 articles,
# sorted by PMID, every 10th is dev and the one after it test (79 / 9 / 9 articles).
TREEBANKS = {"craft": "treebanks/craft/conllu"}


@dataclass(frozen=True)
class ModelSpec:
    """One trained pipeline: its config, the gold splits it learns from and is selected on."""

    name: str
    config: str
    train: tuple[tuple[str, str], ...]
    dev: tuple[tuple[str, str], ...]
    overrides: dict[str, object] = field(default_factory=dict)


MODELS = (
    ModelSpec("parser_craft", "parser.cfg", (("craft", "train"),), (("craft", "dev"),)),
    ModelSpec("ner_bc5cdr", "ner.cfg", (("bc5cdr", "train"),), (("bc5cdr", "dev"),)),
    ModelSpec("ner_biored", "ner.cfg", (("biored", "train"),), (("biored", "dev"),)),
    ModelSpec("ner_gene", "ner.cfg", (("nlm_gene", "train-fit"),), (("nlm_gene", "train-dev"),)),
)


def gold_split(store: Store, corpus: str, split: str) -> list[GoldDocument]:
    """A corpus split; "train-fit" / "train-dev" carve a dev split out of a train split."""
    if split in ("train-fit", "train-dev"):
        docs = store.gold_documents(corpus, "train")
        held = split == "train-dev"
        return [d for i, d in enumerate(docs) if (i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == held]
    docs = store.gold_documents(corpus, split)
    if not docs:
        raise ValueError(f"no gold documents for {corpus} {split}: run `litmine import` on ../shared/corpora first")
    return docs


def treebank_files(settings: Settings, corpus: str, split: str) -> list[Path]:
    """A treebank split's CoNLL-U files (see TREEBANKS)."""
    files = sorted((settings.shared / TREEBANKS[corpus]).glob("*.conllu"))
    if not files:
        raise ValueError(f"no CoNLL-U files in {settings.shared / TREEBANKS[corpus]}")
    position = {"train": None, "dev": 8, "test": 9}[split]
    return [f for i, f in enumerate(files)
            if (i % 10 == position if position is not None else i % 10 not in (8, 9))]


def treebank_docs(settings: Settings, corpus: str, split: str) -> list[Doc]:
    """Parsed gold documents from CoNLL-U, ten sentences a document, as `spacy convert` makes them."""
    from spacy.training.converters import conllu_to_docs

    docs = []
    for path in treebank_files(settings, corpus, split):
        try:
            docs.extend(conllu_to_docs(path.read_text(encoding="utf-8"), n_sents=10, no_print=True))
        except (ValueError, IndexError) as exc:
            raise ValueError(f"{path}: not valid CoNLL-U: {exc}") from exc
    return docs


def ner_doc(nlp: Language, gold: GoldDocument) -> tuple[Doc, int]:
    """The gold document as a spaCy Doc with litmine-typed entities, and how many gold
    mentions could not be represented (nested in another, or not on token boundaries)."""
    doc = nlp.make_doc(gold.text)
    mapping = NER_TYPES[gold.corpus]
    spans, missing, dropped, taken = [], [], 0, set()
    for ent in sorted(gold.entities, key=lambda e: (e.start, -e.end)):
        span = doc.char_span(ent.start, ent.end, label=mapping.get(ent.type) or "")
        if span is None:
            dropped += 1
            wide = doc.char_span(ent.start, ent.end, alignment_mode="expand")
            if wide is not None and not taken.intersection(range(wide.start, wide.end)):
                missing.append(wide)
                taken.update(range(wide.start, wide.end))
            continue
        if taken.intersection(range(span.start, span.end)):
            dropped += mapping.get(ent.type) is not None
            continue
        taken.update(range(span.start, span.end))
        (spans if span.label_ else missing).append(span)
    doc.set_ents(spans, missing=missing, default="outside")
    return doc, dropped


def write_docbin(nlp: Language, splits: Iterable[tuple[str, str]], settings: Settings, store: Store,
                 path: Path) -> dict[str, int]:
    """Write the splits' gold documents to a .spacy file; returns counts for the build record."""
    out, counts = DocBin(), {"docs": 0, "tokens": 0, "entities": 0, "dropped": 0}
    for corpus, split in splits:
        if corpus in TREEBANKS:
            docs = [(doc, 0) for doc in treebank_docs(settings, corpus, split)]
        else:
            docs = [ner_doc(nlp, gold) for gold in gold_split(store, corpus, split)]
        for doc, lost in docs:
            out.add(doc)
            counts["docs"] += 1
            counts["tokens"] += len(doc)
            counts["entities"] += len(doc.ents)
            counts["dropped"] += lost
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_disk(path)
    return counts


def model_key(spec: ModelSpec, settings: Settings, store: Store, kb_version: str) -> str:
    """Changes when the config, the training data, the KB or the code that feeds them changes."""
    digest = hashlib.sha256()
    digest.update((CONFIG_DIR / spec.config).read_bytes())
    digest.update(json.dumps([spec.train, spec.dev, sorted(spec.overrides.items())], default=str).encode())
    digest.update(code_hash(sys.modules[__name__], nlp, entities, (corpora, "NER_TYPES")).encode())
    digest.update(f"{kb_version}:{spacy.__version__}".encode())
    for corpus, split in (*spec.train, *spec.dev):
        if corpus in TREEBANKS:
            files = treebank_files(settings, corpus, split)
            digest.update(json.dumps([(p.name, p.stat().st_size) for p in files]).encode())
        else:
            digest.update(store.gold_fingerprint(corpus, split.split("-")[0]).encode())
    return digest.hexdigest()[:12]


# A quick build for CI and tests: the same recipe on fewer documents and steps.
REDUCED = {"training.max_epochs": 0, "training.max_steps": 300, "training.eval_frequency": 100,
           "corpora.train.limit": 100, "corpora.dev.limit": 50}


def build_model(spec: ModelSpec, settings: Settings, store: Store, kb: KnowledgeBase,
                overrides: dict[str, object] | None = None) -> Path:
    """Train `spec` unless a model with the same key exists; returns its folder (model-best/, build.json)."""
    overrides = {**spec.overrides, **(overrides or {})}
    key = model_key(ModelSpec(spec.name, spec.config, spec.train, spec.dev, overrides), settings, store, kb.version)
    root = settings.models / spec.name / key
    if (root / "build.json").is_file():  # written last: a model-best without it is a training cut short
        print(f"[{spec.name}] up to date: {root / 'model-best'}", file=sys.stderr)
    else:
        _train(spec, root, settings, store, kb, overrides)
    (settings.models / spec.name / "current").write_text(key)
    return root


def _train(spec: ModelSpec, root: Path, settings: Settings, store: Store, kb: KnowledgeBase,
           overrides: dict[str, object]) -> None:
    from spacy.cli.train import train

    import pipeline.entities.nlp  # noqa: F401  (registers litmine's tokenizer, component and layers)

    if root.exists():
        shutil.rmtree(root)
    config = spacy.util.load_config(CONFIG_DIR / spec.config)
    if "kb_features" in config["components"]:
        overrides = {**overrides, "initialize.components.kb_features.kb_path": str(kb.path)}
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    counts = {}
    for part, splits in (("train", spec.train), ("dev", spec.dev)):
        counts[part] = write_docbin(nlp, splits, settings, store, root / "corpus" / f"{part}.spacy")
    print(f"[{spec.name}] training on {counts['train']}, selecting on {counts['dev']}", file=sys.stderr)
    started = time.monotonic()
    with threadpool_limits(limits=1):  # one BLAS thread: sums in one order, the same weights every run
        train(CONFIG_DIR / spec.config, root, use_gpu=-1, overrides={
            "paths.train": str(root / "corpus" / "train.spacy"), "paths.dev": str(root / "corpus" / "dev.spacy"),
            **overrides})
    seconds = time.monotonic() - started
    size = sum(p.stat().st_size for p in (root / "model-best").rglob("*") if p.is_file())
    (root / "build.json").write_text(json.dumps({
        "model": spec.name, "config": spec.config, "train": spec.train, "dev": spec.dev, "overrides": overrides,
        "counts": counts, "seconds": round(seconds, 1), "bytes": size}, indent=2, default=str))
    shutil.rmtree(root / "model-last", ignore_errors=True)
