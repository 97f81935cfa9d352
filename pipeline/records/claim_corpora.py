"""Claim corpora: SciFact, Check-COVID and PubMedQA, their abstracts as records and their
claims as GoldClaims.

SciFact and Check-COVID abstracts come split into sentences: the Record holds them joined
by " ", and a GoldDocument (split "corpus") holds one "sentence" entity per sentence (ann_id
"S<i>"), so a rationale's sentence index maps to a span of the record's text. A SciFact claim
gives one GoldClaim per cited document, its rationale sets merged into ``sentences``.
PubMedQA's split comes from ``test_ground_truth.json`` beside ``ori_pqal.json`` (test if
listed, else train); Check-COVID's from its train/dev/test folders.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.datatypes import GoldClaim, GoldDocument, GoldEntity, Record, record_uid
from pipeline.records.corpus_files import (Batch, ImportFailure, at_line, batch_of, json_lines, line_of, parse_json,
                                           read_text)
from pipeline.records.corpus_formats import split_of

_CHECK_COVID_LABELS = {"SUPPORT": "SUPPORT", "REFUTE": "REFUTE", "NOTENOUGHINFO": "NEI"}


def parse_sentence_corpus(path: Path, corpus: str, id_key: str) -> Batch:
    """SciFact corpus.jsonl(.gz) or Check-COVID corpus.json: sentence-split abstracts, one per line."""
    pairs = []
    for number, row in json_lines(path):
        with at_line(path, number):
            pairs.append(_sentence_document(corpus, str(row[id_key]), row["title"], row["abstract"]))
    return batch_of(pairs)


def parse_scifact_claims(path: Path) -> Batch:
    """claims_<split>.jsonl: one GoldClaim per (claim, cited document); test claims carry no label."""
    split, claims = split_of(path), []
    for number, row in json_lines(path):
        with at_line(path, number):
            claim_id, labelled = str(row["id"]), "evidence" in row
            evidence = {str(k): v for k, v in (row.get("evidence") or {}).items()}
            cited = list(dict.fromkeys([str(d) for d in row.get("cited_doc_ids", [])] + list(evidence)))
            if not cited:
                claims.append(GoldClaim("scifact", split, claim_id, row["claim"]))
            for doc_id in cited:
                sets = evidence.get(doc_id, [])
                label = sets[0]["label"] if sets else "NOINFO" if labelled else ""
                sentences = sorted({int(i) for s in sets for i in s["sentences"]})
                claims.append(GoldClaim("scifact", split, claim_id, row["claim"], doc_id, label, sentences))
    return Batch(claims=claims)


def parse_check_covid_claims(path: Path) -> Batch:
    """covidCheck_<split>_*.json lines: one claim against one CORD-19 abstract (SUPPORT/REFUTE/NEI)."""
    split, claims = split_of(path), []
    for number, row in json_lines(path):
        with at_line(path, number):
            if row["label"] not in _CHECK_COVID_LABELS:
                raise ValueError(f"unknown label {row['label']!r}")
            sentences = sorted({int(e["sent_index"]) for e in row.get("evidence_set", [])})
            claims.append(GoldClaim("check_covid", split, str(row["id"]), row["claim"], str(row["cord_id"]),
                                    _CHECK_COVID_LABELS[row["label"]], sentences))
    return Batch(claims=claims)


def parse_pubmedqa(path: Path) -> Batch:
    """ori_pqal.json: a Record per PMID (contexts joined) and its question as a yes/no/maybe GoldClaim."""
    truth = path.with_name("test_ground_truth.json")
    if not truth.is_file():
        raise ImportFailure(f"{path}:1: test_ground_truth.json is not beside it (it defines the test split)")
    test_ids = set(parse_json(truth, read_text(truth)))
    text = read_text(path)
    questions = parse_json(path, text)
    if not isinstance(questions, dict):
        raise ImportFailure(f"{path}:1: expected an object keyed by PMID")
    batch = Batch()
    for pmid, item in questions.items():
        with at_line(path, lambda: line_of(text, f'"{pmid}"')):
            if not isinstance(item["CONTEXTS"], list):
                raise ValueError(f"PMID {pmid}: CONTEXTS is not a list")
            year = str(item.get("YEAR") or "")
            batch.records.append(Record(uid=record_uid(pmid=pmid), abstract=" ".join(item["CONTEXTS"]), pmid=pmid,
                                        year=int(year) if year.isdigit() else None,
                                        mesh_terms=list(item.get("MESHES", [])), source="pubmedqa"))
            split = "test" if pmid in test_ids else "train"
            batch.claims.append(GoldClaim("pubmedqa", split, pmid, item["QUESTION"], pmid, item["final_decision"]))
    return batch


def _sentence_document(corpus: str, doc_id: str, title: str, sentences: list[str]) -> tuple[Record, GoldDocument]:
    """A sentence-split abstract: sentences joined by " ", each kept as a "sentence" span."""
    if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
        raise ValueError(f"document {doc_id}: abstract is not a list of sentences")
    entities, start = [], len(title) + 1
    for number, sentence in enumerate(sentences):
        entities.append(GoldEntity(f"S{number}", start, start + len(sentence), sentence, "sentence"))
        start += len(sentence) + 1
    # Their ids are corpus-local (S2 corpus ids, CORD-19 ids), never PMIDs, even when numeric.
    record = Record(uid=record_uid(source=corpus, local_id=doc_id), title=title, abstract=" ".join(sentences),
                    source=corpus)
    return record, GoldDocument(corpus, "corpus", doc_id, record.text, entities)
