"""DrugProt and ChemProt: a split is the abstracts, entities and relations TSVs in one folder,
imported as a unit.

They keep their own annotation ids (T1, ...) because their relations name them. ChemProt
relations keep the CPR group as ``type`` ("CPR:4") and the fine label in ``rel_id``
("INHIBITOR").
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.datatypes import GoldEntity, GoldRelation
from pipeline.records.corpus_files import Batch, ImportFailure, at_line, batch_of, corpus_document, tsv_rows
from pipeline.records.corpus_formats import corpus_of, prot_files, split_of


def parse_prot_split(path: Path) -> Batch:
    """A DrugProt or ChemProt split: the abstracts, entities and relations TSVs in path's folder."""
    files = prot_files(path.parent)
    if "abstracts" not in files:
        raise ImportFailure(f"{path}:1: no *_abstracts.tsv beside it to attach its annotations to")
    corpus, split = corpus_of(files["abstracts"]), split_of(files["abstracts"])
    documents: dict[str, dict[str, Any]] = {}
    for _, (pmid, title, abstract) in tsv_rows(files["abstracts"], (3,)):
        documents[pmid.strip()] = {"title": title, "abstract": abstract, "entities": [], "relations": []}

    def missing(source: Path, number: int, pmid: str) -> ImportFailure:
        return ImportFailure(f"{source}:{number}: PMID {pmid} is not in {files['abstracts'].name}")

    if "entities" in files:
        number = 0
        with at_line(files["entities"], lambda: number):  # once for the file: a context a line cost seconds
            for number, (pmid, ann_id, kind, start, end, text) in tsv_rows(files["entities"], (6,)):
                document = documents.get(pmid.strip())
                if document is None:
                    raise missing(files["entities"], number, pmid)
                document["entities"].append(GoldEntity(ann_id, int(start), int(end), text, kind))
    relations = files.get("relations") or files.get("gold_standard")
    if relations:
        for number, columns in tsv_rows(relations, (4, 6)):  # pmid type [flag fine] Arg1:T Arg2:T
            document = documents.get(columns[0].strip())
            if document is None:
                raise missing(relations, number, columns[0])
            arg1, arg2 = (c.strip().split(":", 1)[-1] for c in columns[-2:])
            fine = columns[3].strip() if len(columns) == 6 else ""
            document["relations"].append(GoldRelation(columns[1].strip(), arg1, arg2, rel_id=fine))
    return batch_of(corpus_document(corpus, split, pmid, d["title"], d["abstract"], d["entities"],
                                   d["relations"], renumber=False) for pmid, d in documents.items())
