"""Annotated abstracts in PubTator text and BioC XML or JSON (BC5CDR, BioRED, NLM-Gene,
NCBI-disease) as records and gold documents in the canonical shape (corpus_files).

BioC's positional relation ids are dropped, and BC5CDR's IndividualMention parts of composite
mentions are dropped (PubTator and the official evaluation list only the composite mention,
whose span covers them). NLM-Gene's split comes from the ``Pmidlist.{Train,Test}.txt`` files
beside its BioC files.
"""
from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pipeline import safexml
from pipeline.datatypes import GoldDocument, GoldEntity, GoldRelation, Record
from pipeline.records.corpus_files import (Batch, ImportFailure, at_line, batch_of, corpus_document, line_of,
                                           numbered_lines, parse_json, read_text, tsv_columns)
from pipeline.records.corpus_formats import PUBTATOR_TEXT, corpus_of, split_of

# BioC infons that carry a mention's concept identifiers (BioRED, BC5CDR, NLM-Gene).
_BIOC_ID_INFONS = ("identifier", "MESH", "NCBI Gene identifier")


def parse_pubtator(path: Path) -> Batch:
    """PubTator text (BC5CDR, BioRED, NCBI-disease): |t| and |a| lines, mention and relation rows."""
    corpus, split = corpus_of(path), split_of(path)
    documents: list[dict[str, Any]] = []
    for number, line in numbered_lines(path):
        text_line = PUBTATOR_TEXT.match(line)
        current = documents[-1] if documents else None
        if text_line:
            pmid, kind, body = text_line.groups()
            if kind == "t":
                documents.append({"pmid": pmid, "title": body, "abstract": "", "entities": [], "relations": []})
            elif current is None or current["pmid"] != pmid:
                raise ImportFailure(f"{path}:{number}: abstract of PMID {pmid} without its title line")
            else:
                current["abstract"] = body
            continue
        mention = re.match(r"[^\t]*\t\d+\t\d+\t", line)
        columns = tsv_columns(path, number, line, (6, 7) if mention else (4, 5))
        if current is None or columns[0].strip() != current["pmid"]:
            raise ImportFailure(f"{path}:{number}: row for PMID {columns[0].strip()} outside its document")
        if mention:  # pmid start end text type ids [composite mention's parts]
            current["entities"].append(GoldEntity("", int(columns[1]), int(columns[2]), columns[3],
                                                  columns[4].strip(), columns[5].strip()))
        else:  # BC5CDR: pmid CID chemical disease; BioRED: pmid type id1 id2 novelty
            novelty = columns[4].strip() if len(columns) == 5 else ""
            current["relations"].append(GoldRelation(columns[1].strip(), columns[2].strip(),
                                                     columns[3].strip(), novelty=novelty))
    return batch_of(corpus_document(corpus, split, d["pmid"], d["title"], d["abstract"], d["entities"],
                                   d["relations"]) for d in documents)

# -- BioC (XML and JSON)

def parse_bioc_xml(path: Path) -> Batch:
    """BioC XML (BC5CDR, BioRED, NLM-Gene), read into BioC JSON's shape and built from there."""
    text = read_text(path)
    try:
        root = safexml.fromstring(text)
    except safexml.UnsafeXML as exc:
        raise ImportFailure(f"{path}:1: {exc}") from exc
    except ET.ParseError as exc:
        raise ImportFailure(f"{path}:{exc.position[0]}: malformed XML: {str(exc).split(':')[0]}") from exc
    if root.tag != "collection":
        raise ImportFailure(f"{path}:1: expected a BioC <collection>, got <{root.tag}>")
    documents = [_bioc_xml_document(element) for element in root.iter("document")]
    return _bioc_batch(path, text, documents, "<id>{}</id>")


def parse_bioc_json(path: Path) -> Batch:
    """BioC JSON (BioRED dev/test)."""
    text = read_text(path)
    collection = parse_json(path, text)
    with at_line(path, 1):
        documents = collection["documents"]
    return _bioc_batch(path, text, documents, '"id": "{}"')


def _bioc_xml_document(element: ET.Element) -> dict[str, Any]:
    def infons(node: ET.Element) -> dict[str, str]:
        return {i.get("key", ""): i.text or "" for i in node.findall("infon")}

    return {
        "id": element.findtext("id", ""),
        "passages": [{
            "infons": infons(p), "offset": p.findtext("offset"), "text": p.findtext("text", ""),
            "annotations": [{
                "id": a.get("id"), "infons": infons(a), "text": a.findtext("text", ""),
                "locations": [dict(loc.attrib) for loc in a.findall("location")],
            } for a in p.findall("annotation")],
        } for p in element.findall("passage")],
        "relations": [{"id": r.get("id"), "infons": infons(r)} for r in element.findall("relation")],
    }


def _bioc_batch(path: Path, text: str, documents: list[dict[str, Any]], id_needle: str) -> Batch:
    corpus = corpus_of(path)
    splits = _nlm_gene_splits(path.parent) if corpus == "nlm_gene" else {}
    pairs = []
    for document in documents:
        doc_id = str(document.get("id", "")) if isinstance(document, dict) else ""
        with at_line(path, lambda: line_of(text, id_needle.format(doc_id))):
            if not doc_id:
                raise ValueError("document without an id")
            split = splits.get(doc_id) if corpus == "nlm_gene" else split_of(path)
            if split is None:
                raise ValueError(f"document {doc_id} is in no Pmidlist.*.txt")
            pairs.append(_bioc_document(corpus, split, doc_id, document))
    return batch_of(pairs)


def _bioc_document(corpus: str, split: str, doc_id: str, document: dict[str, Any]) -> tuple[Record, GoldDocument]:
    """Passages laid out at their document-level offsets (title + " " + abstract)."""
    text, title_end, entities = "", None, []
    for passage in document["passages"]:
        offset = int(passage["offset"])
        if offset < len(text):
            raise ValueError(f"document {doc_id}: passage at offset {offset} overlaps the one before")
        text = text.ljust(offset) + passage["text"]
        title_end = len(text) if title_end is None else title_end
        for annotation in passage.get("annotations", []):
            infons = annotation["infons"]
            if infons.get("CompositeRole") == "IndividualMention":
                continue
            starts, ends = [], []  # a discontinuous mention's locations: its span covers them all
            for location in annotation["locations"]:
                starts.append(int(location["offset"]))
                ends.append(starts[-1] + int(location["length"]))
            identifiers = next((infons[k] for k in _BIOC_ID_INFONS if k in infons), "")
            entities.append(GoldEntity("", min(starts), max(ends), annotation["text"], infons.get("type", "").strip(),
                                       identifiers.strip()))
    relations = []
    for relation in document.get("relations", []):
        infons = {key: value.strip() for key, value in relation["infons"].items()}
        relations.append(GoldRelation(infons.get("type") or infons["relation"],
                                      infons.get("entity1") or infons["Chemical"],
                                      infons.get("entity2") or infons["Disease"], novelty=infons.get("novel", "")))
    title = text[:title_end or 0]
    return corpus_document(corpus, split, doc_id, title, text[len(title) + 1:], entities, relations)


def _nlm_gene_splits(folder: Path) -> dict[str, str]:
    """PMID -> split from the Pmidlist.<Split>.txt files in the folder or the one above. NLM-Gene
    is 550 files of one document each: the folders' listings and the lists are read once while
    they are unchanged (by modification time and size), not once a file."""
    splits: dict[str, str] = {}
    for where in (folder, folder.parent):
        for listing in _pmid_lists(where, where.stat().st_mtime_ns):
            stat = listing.stat()
            splits.update(_pmid_list(listing, stat.st_mtime_ns, stat.st_size))
    return splits


@functools.lru_cache(maxsize=8)
def _pmid_lists(folder: Path, modified: int) -> tuple[Path, ...]:
    return tuple(sorted(folder.glob("Pmidlist.*.txt")))


@functools.lru_cache(maxsize=8)
def _pmid_list(listing: Path, modified: int, size: int) -> dict[str, str]:
    split = split_of(Path(listing.name))
    return {line.strip(): split for _, line in numbered_lines(listing) if line.strip().isdigit()}
