"""SciFact (and Check-COVID) through the product: claims in a document, verdicts from the flow.

Why: the verdict users get comes from `litmine run`, so the benchmark runs exactly that. A
split's claims are written one a paragraph into an uncited document, the CLI checks it
offline against the store (which holds the corpus's abstracts among every other record),
and this module reads the run's claims and evidence tables back and scores them:

- claim level: each claim's verdict against its gold label (SUPPORT -> supported,
  CONTRADICT -> contradicted, no evidence abstract -> no_evidence), macro-F1 over the three;
- abstract level, SciFact's label-only measure: a SUPPORT/CONTRADICT abstract is correct when
  it is a gold evidence abstract of that claim with that label;
- retrieval: recall@k of the gold evidence abstracts among the records the search gathers.

It also loads the corpus for training the sentence-level verifier (`pipeline.training.verifier`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline.datatypes import Claim, DocSentence, ExtractedRecord, record_uid
from pipeline.entities.dictionary import EntityTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.evaluation.entities import Scores, prf
from pipeline.records.store import Store
from pipeline.verdicts.rationales import Passage, SentenceModel
from pipeline.verdicts.evidence import Candidates
from pipeline.verdicts.verifier import verify_claim

GOLD_VERDICT = {"SUPPORT": "supported", "CONTRADICT": "contradicted"}
_LABELS = {"REFUTE": "CONTRADICT", "NEI": "NOINFO"}  # Check-COVID's labels in SciFact's words
VERDICTS = ("supported", "contradicted", "no_evidence")
_STANCE_LABEL = {"supports": "SUPPORT", "contradicts": "CONTRADICT"}


@dataclass
class ScifactClaim:
    """A claim with its gold labels for the abstracts (record uids) it was written against."""

    claim_id: str
    text: str
    labels: dict[str, str] = field(default_factory=dict)  # uid -> SUPPORT / CONTRADICT / NOINFO
    rationales: dict[str, list[int]] = field(default_factory=dict)  # evidence uid -> sentence indexes

    @property
    def evidence(self) -> dict[str, str]:
        """The abstracts that hold evidence, with their label."""
        return {uid: label for uid, label in self.labels.items() if label in GOLD_VERDICT}

    @property
    def verdict(self) -> str:
        """The verdict the claim should get: its evidence's label, else no evidence."""
        labels = set(self.evidence.values())
        return GOLD_VERDICT[labels.pop()] if len(labels) == 1 else "mixed" if labels else "no_evidence"


FOLD_SEED = "0"  # part of every claim's hash: a fixed seed, so that a fold holds the same claims in every process


def in_fold(claim_id: str, fold: str) -> bool:
    """Whether a claim falls in `fold`, "K/N" (the K-th of N, from 1): by a hash of its id, so that a fold
    holds the same claims whatever else is loaded, and a verifier trained without fold K never saw them
    (`benchmarks/held_out_verifier.py`). A fold that is not "K/N" with 1 <= K <= N is a ValueError."""
    k, _, n = fold.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise ValueError(f"fold {fold!r} is not K/N with 1 <= K <= N (e.g. 1/3)")
    digest = hashlib.sha256(f"{FOLD_SEED}:{claim_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % int(n) == int(k) - 1


def load_passages(store: Store, corpus: str = "scifact") -> dict[str, Passage]:
    """A sentence corpus's abstracts by record uid: the title is the text before the first sentence."""
    passages = {}
    for doc in store.gold_documents(corpus, "corpus"):
        spans = sorted(doc.entities, key=lambda e: int(e.ann_id[1:]))
        if spans:  # an abstract without sentences can hold no rationale
            uid = record_uid(source=corpus, local_id=doc.doc_id)
            passages[uid] = Passage(uid, doc.text[:spans[0].start].strip(), tuple(e.text for e in spans))
    return passages


def load_claims(store: Store, split: str, corpus: str = "scifact") -> list[ScifactClaim]:
    """A split's claims, one per claim id, ordered by id; labels in SciFact's words."""
    claims: dict[str, ScifactClaim] = {}
    for gold in store.gold_claims(corpus, split):
        claim = claims.setdefault(gold.claim_id, ScifactClaim(gold.claim_id, gold.claim))
        if gold.doc_id:
            uid = record_uid(source=corpus, local_id=gold.doc_id)
            claim.labels[uid] = _LABELS.get(gold.label, gold.label)
            if gold.label in GOLD_VERDICT:
                claim.rationales[uid] = list(gold.sentences)
    return sorted(claims.values(), key=lambda c: int(c.claim_id) if c.claim_id.isdigit() else c.claim_id)


# ---------------------------------------------------------------- metrics


def label_only_scores(predicted: dict[str, dict[str, str]], gold: dict[str, dict[str, str]]) -> Scores:
    """SciFact's abstract-level label-only P/R/F1. Both map claim -> {abstract: label}; gold holds
    the evidence abstracts only; NOINFO predictions count nowhere."""
    made = [(claim, doc, label) for claim, docs in predicted.items() for doc, label in docs.items()
            if label != "NOINFO"]
    correct = sum(gold.get(claim, {}).get(doc) == label for claim, doc, label in made)
    return prf(correct, len(made), sum(len(docs) for docs in gold.values()))


def macro_f1(gold: Iterable[str], predicted: Iterable[str],
             labels: Iterable[str] = ("SUPPORT", "CONTRADICT", "NOINFO")) -> float:
    """Unweighted mean of the per-label F1 (a label never gold nor predicted scores 0)."""
    gold, predicted = np.asarray(list(gold)), np.asarray(list(predicted))
    return float(np.mean([prf(int(((gold == label) & (predicted == label)).sum()), int((predicted == label).sum()),
                              int((gold == label).sum())).f1 for label in labels]))


def rationale_scores(predicted: dict, gold: dict) -> Scores:
    """Sentence-level P/R/F1 over the gold evidence abstracts (the keys of `gold`, each mapping to
    its rationale sentence indexes). A selected sentence is correct when it is in the gold
    rationale of that abstract; selections for other abstracts are ignored."""
    correct = sum(len(set(predicted.get(key, ())) & set(sentences)) for key, sentences in gold.items())
    selected = sum(len(set(predicted.get(key, ()))) for key in gold)
    return prf(correct, selected, sum(len(set(s)) for s in gold.values()))


def retrieval_recall(claims: list[ScifactClaim], search: Callable[[str], list[str]],
                     ks: Iterable[int] = (1, 3, 5, 10)) -> dict[str, float]:
    """Share of the gold evidence abstracts among each claim's first k search results (uids)."""
    ks = sorted(ks)
    found, total = dict.fromkeys(ks, 0), 0
    for claim in claims:
        if claim.evidence:
            hits = search(claim.text)
            total += len(claim.evidence)
            for k in ks:
                found[k] += len(set(hits[:k]) & set(claim.evidence))
    return {f"recall_at_{k}": round(found[k] / total, 4) if total else 0.0 for k in ks}


# ---------------------------------------------------------------- through the product


def claims_document(claims: list[ScifactClaim], corpus: str) -> str:
    """The claims as an uncited document: a heading, then one claim a paragraph."""
    lines = [f"{corpus} claims", ""]
    for claim in claims:
        text = claim.text.strip()
        lines += [text if text.endswith((".", "!")) else f"{text}.", ""]
    return "\n".join(lines)


def rows_per_claim(claims: list[ScifactClaim], rows: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """The claims-table rows of each claim: the sentences its paragraph became, in order."""
    ordered = sorted(rows, key=lambda r: (int(r["sentence_index"]), r["claim_id"]))
    found: list[list[dict[str, str]]] = [[] for _ in claims]
    position = 0
    for row in ordered:
        sentence = row["sentence"].strip().rstrip(".")
        for j in range(position, len(claims)):
            # a claim written twice is two paragraphs: a sentence the claim already has, at
            # another place in the document, belongs to the next copy
            repeated = any(r["sentence"] == row["sentence"] and r["sentence_index"] != row["sentence_index"]
                           for r in found[j])
            if sentence and sentence in claims[j].text and not repeated:
                found[j].append(row)
                position = j
                break
    return found


def claim_row(rows: list[dict[str, str]]) -> dict[str, str] | None:
    """The row that gives a claim its verdict when its paragraph gave several claim rows: the most
    confident row taking a side (by the raw confidence, which ranks), else its first row saying no
    evidence, else its first row (None when it gave none)."""
    sides = [r for r in rows if r["verdict"] in ("supported", "contradicted", "mixed")]
    if sides:
        return max(sides, key=lambda r: float(r["verdict_confidence_raw"] or 0))
    return next((r for r in rows if r["verdict"] == "no_evidence"), rows[0] if rows else None)


def claim_verdict(rows: list[dict[str, str]]) -> str:
    """One verdict for a claim whose paragraph gave several claim rows (`claim_row`; "" when it gave none)."""
    row = claim_row(rows)
    return row["verdict"] if row else ""


def abstract_labels(rows: list[dict[str, str]], evidence: list[dict[str, str]]) -> dict[str, str]:
    """Each record's label for a claim, from the evidence rows of its claim rows: the stance of
    its most confident row taking a side."""
    ids = {r["claim_id"] for r in rows}
    best: dict[str, tuple[float, str]] = {}
    for row in evidence:
        if row["claim_id"] in ids and row["stance"] in _STANCE_LABEL:
            confidence = float(row["confidence"] or 0)
            if confidence >= best.get(row["pmid"], (-1.0, ""))[0]:
                best[row["pmid"]] = (confidence, _STANCE_LABEL[row["stance"]])
    return {uid: label for uid, (_, label) in best.items()}


@dataclass(frozen=True)
class GoldEvidenceFigures:
    """The verifier on each claim's own abstracts (`with_gold_evidence`): macro-F1 and F1 per label."""

    pairs: int  # (claim, abstract) pairs
    macro_f1: float
    per_label_f1: dict[str, float]  # SUPPORT / CONTRADICT / NOINFO


@dataclass
class ClaimFigures:
    """What `litmine evaluate verdicts --corpus scifact|check_covid --json` prints (fractions 0-1)."""

    corpus: str
    split: str
    claims: int
    claims_extracted: float
    claim_macro_f1: float
    accuracy: float
    label_only_precision: float
    label_only_recall: float
    label_only_f1: float
    per_verdict_f1: dict[str, float]
    confusion: dict[str, dict[str, int]]  # gold verdict -> verdict given -> claims
    retrieval: dict[str, float] = field(default_factory=dict)
    gold_evidence: GoldEvidenceFigures | None = None  # with_gold_evidence; the CLI sets it and retrieval

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def score(claims: list[ScifactClaim], claim_rows: list[dict[str, str]], evidence_rows: list[dict[str, str]],
          corpus: str, split: str) -> ClaimFigures:
    """Claim-level and abstract-level figures of a run over `claims_document(claims)`."""
    per_claim = rows_per_claim(claims, claim_rows)
    given = [claim_verdict(rows) for rows in per_claim]
    gold = [c.verdict for c in claims]
    per_verdict = {v: prf(sum(g == p == v for g, p in zip(gold, given)), given.count(v), gold.count(v)).f1
                   for v in VERDICTS}
    confusion: dict[str, dict[str, int]] = {}
    for g, p in zip(gold, given):
        confusion.setdefault(g, {}).setdefault(p or "no claim", 0)
        confusion[g][p or "no claim"] += 1
    labels = label_only_scores({c.claim_id: abstract_labels(rows, evidence_rows) for c, rows in zip(claims, per_claim)},
                               {c.claim_id: c.evidence for c in claims})
    return ClaimFigures(corpus, split, len(claims), round(sum(bool(p) for p in given) / len(claims), 4),
                        round(sum(per_verdict.values()) / len(VERDICTS), 4),
                        round(sum(g == p for g, p in zip(gold, given)) / len(claims), 4),
                        labels.precision, labels.recall, labels.f1, per_verdict, confusion)


def statement(text: str, document: str = "claims") -> Claim:
    """A claim text as the flow reads an uncited sentence that states no triple."""
    return Claim(document, f"{document}:0:statement", DocSentence(0, text, 0, len(text), "", []), None)


def with_gold_evidence(claims: list[ScifactClaim], store: Store, kb: KnowledgeBase, model: SentenceModel,
                       tagger: EntityTagger | None) -> GoldEvidenceFigures:
    """The verifier on each claim's own abstracts, as if the claim cited them: macro-F1 over the
    (claim, abstract) labels SUPPORT / CONTRADICT / NOINFO (Check-COVID's REFUTE and NEI read
    as CONTRADICT and NOINFO), the setting of Check-COVID's and SciFact's oracle figures."""
    gold, given = [], []
    for claim in claims:
        records = [r for uid in claim.labels if (r := store.get(uid)) is not None]
        candidates = Candidates(records, {r.uid for r in records})
        result = verify_claim(statement(claim.text), candidates, {r.uid: ExtractedRecord(r.uid) for r in records},
                              kb, model, tagger)
        said = {e.record.uid: _STANCE_LABEL[e.stance] for e in result.evidence if e.stance in _STANCE_LABEL}
        for record in records:
            gold.append(claim.evidence.get(record.uid, "NOINFO"))
            given.append(said.get(record.uid, "NOINFO"))
    per_label = {label: prf(sum(g == p == label for g, p in zip(gold, given)), given.count(label),
                            gold.count(label)).f1 for label in ("SUPPORT", "CONTRADICT", "NOINFO")}
    return GoldEvidenceFigures(len(gold), round(macro_f1(gold, given), 4), per_label)
