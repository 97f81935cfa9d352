"""The evidence qualifiers (`pipeline.relations.qualifiers`) scored on hand-labelled samples.

Each sample (`tests/data/relations/qualifiers-*.tsv`) names 150 sentences of the DrugProt, BC5CDR
and BioRED dev splits by document and offset (their text stays in the corpora), drawn at random
per corpus, some among the sentences holding a digit (where amounts are) or, in the test sample,
a time span (where exposures are), as its `stratum` column says. Each is labelled by hand with
the drug amounts it states (doses, concentrations, potency values; not laboratory values such
as creatinine), the exposure (acute; chronic: a week of dosing or more; repeated: daily or
repeated doses) and the system studied (human, animal, in vitro) that its words say.

The rules were written on `dev-a`, revised on `dev-b`, and `test` was drawn and labelled after
they were final: only `test`'s figures say how well they do.
"""
from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.documents.sentences import split_sentences
from pipeline.evaluation.entities import Scores, prf
from pipeline.evaluation.pharma import CHEMICAL_TYPES
from pipeline.records.store import Store
from pipeline.relations.qualifiers import amount_spans, qualifiers
from pipeline.training.relation_batches import load_split


@dataclass(frozen=True)
class QualifierFigures:
    """Precision and recall of each qualifier over the labelled sentences."""

    sentences: int
    amounts: Scores  # one-to-one overlaps of amounts found and labelled
    exposure: Scores  # (sentence, kind) pairs
    system: Scores

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _labelled(path: Path, store: Store) -> list[tuple[str, list[str], dict[str, str]]]:
    """(sentence text, the names of the drugs annotated in it, its labels) for each row, read
    from the store's dev splits."""
    with path.open(newline="") as handle:
        header = handle.readline().lstrip("# ").rstrip("\n").split("\t")
        rows = list(csv.DictReader(handle, fieldnames=header, delimiter="\t"))
    docs = {(corpus, doc.doc_id): doc for corpus in {r["corpus"] for r in rows}
            for doc in load_split(store, corpus, ["dev"])}
    out = []
    for row in rows:
        doc = docs[(row["corpus"], row["doc_id"])]
        start = int(row["sentence_start"])
        end = next(e for s, e in split_sentences(doc.text) if s == start)
        drugs = [e.text for e in doc.entities if e.type in CHEMICAL_TYPES and start <= e.start and e.end <= end]
        out.append((doc.text[start:end], drugs, row))
    return out


def find(sentence: str, phrase: str) -> tuple[int, int]:
    """Where a labelled phrase is in its sentence, any white space (the corpora's no-break spaces
    among them) matching a space."""
    match = re.search(r"\s+".join(map(re.escape, phrase.split())), sentence)
    if match is None:
        raise ValueError(f"labelled amount {phrase!r} is not in {sentence!r}")
    return match.span()


def _overlaps(found: list[tuple[int, int]], gold: list[tuple[int, int]]) -> int:
    """Found spans matched one-to-one to overlapping gold spans."""
    free = list(gold)
    hits = 0
    for start, end in found:
        match = next((g for g in free if g[0] < end and start < g[1]), None)
        if match:
            free.remove(match)
            hits += 1
    return hits


def evaluate_qualifiers(path: Path, store: Store) -> QualifierFigures:
    """Score `qualifiers` on the hand-labelled sample at `path`."""
    counts = {name: [0, 0, 0] for name in ("amounts", "exposure", "system")}  # hits, predicted, gold
    labelled = _labelled(path, store)
    for sentence, drugs, row in labelled:
        gold_spans = [find(sentence, a) for a in row["amounts"].split(" | ") if a]
        found = amount_spans(sentence)
        for i, n in enumerate((_overlaps(found, gold_spans), len(found), len(gold_spans))):
            counts["amounts"][i] += n
        said = qualifiers(sentence, drugs)
        for name, predicted in (("exposure", set(said.exposure)), ("system", set(said.system))):
            gold = set(filter(None, row[name].split(";")))
            for i, n in enumerate((len(predicted & gold), len(predicted), len(gold))):
                counts[name][i] += n
    return QualifierFigures(len(labelled), *(prf(*counts[name]) for name in ("amounts", "exposure", "system")))
