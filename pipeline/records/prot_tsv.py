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
from pipeline.records.corpus_files import (Batch, ImportFailure, at_line, batch_of, corpus_document, numbered_lines,
                                           tsv_columns)
from pipeline.records.corpus_formats import corpus_of, prot_files, split_of


def parse_prot_split(path: Path) -> Batch:
    """A DrugProt or ChemProt split: the abstracts, entities and relations TSVs in path's folder."""
    files = prot_files(path.parent)
    if "abstracts" not in files:
        raise ImportFailure(f"{path}:1: no *_abstracts.tsv beside it to attach its annotations to")
    corpus, split = corpus_of(files["abstracts"]), split_of(files["abstracts"])
    documents: dict[str, dict[str, Any]] = {}
    for number, line in numbered_lines(files["abstracts"]):
        pmid, title, abstract = tsv_columns(files["abstracts"], number, line, (3,))
        documents[pmid.strip()] = {"title": title, "abstract": abstract, "entities": [], "relations": []}

    def document(source: Path, number: int, pmid: str) -> dict[str, Any]:
        if pmid.strip() not in documents:
            raise ImportFailure(f"{source}:{number}: PMID {pmid} is not in {files['abstracts'].name}")
        return documents[pmid.strip()]

    if "entities" in files:
        number = 0
        with at_line(files["entities"], lambda: number):  # once for the file: a context a line cost seconds
            for number, line in numbered_lines(files["entities"]):
                pmid, ann_id, kind, start, end, text = tsv_columns(files["entities"], number, line, (6,))
                document(files["entities"], number, pmid)["entities"].append(
                    GoldEntity(ann_id, int(start), int(end), text, kind))
    relations = files.get("relations") or files.get("gold_standard")
    if relations:
        for number, line in numbered_lines(relations):
            columns = tsv_columns(relations, number, line, (4, 6))  # pmid type [flag fine] Arg1:T Arg2:T
            arg1, arg2 = (c.strip().split(":", 1)[-1] for c in columns[-2:])
            fine = columns[3].strip() if len(columns) == 6 else ""
            document(relations, number, columns[0])["relations"].append(
                GoldRelation(columns[1].strip(), arg1, arg2, rel_id=fine))
    return batch_of(corpus_document(corpus, split, pmid, d["title"], d["abstract"], d["entities"],
                                   d["relations"], renumber=False) for pmid, d in documents.items())
