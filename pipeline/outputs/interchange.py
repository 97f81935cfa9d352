"""litmine's annotations written as BioC JSON or PubTator, the formats other biomedical text
mining tools (and litmine's own importer) read.

A record is written with its title and abstract as two passages (BioC) or |t| and |a| lines
(PubTator), so that mention offsets run over ``title + " " + abstract`` as in every corpus
litmine imports. BioC adds a passage per full-text section, at its offset in
`Record.full_text`; PubTator holds only the title and abstract, so the mentions and relations
of a record's body are left out of it. Mentions carry their type and KB id; relations join
the two concepts' ids, as BioRED's do. BioC relations also carry litmine's negated, hedged and
confidence values as extra infons (importers that do not know them skip them); PubTator has
no place for them.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.datatypes import Mention, Record, Relation
from pipeline.outputs.files import write_text


@dataclass
class AnnotatedRecord:
    """A record with the mentions (offsets over `record.full_text`, of which `record.text` is the
    start) and relations litmine found in it."""

    record: Record
    mentions: list[Mention] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return self.record.pmid or self.record.uid


def _concept(mention: Mention) -> str:
    return mention.id or mention.text


def _unique_relations(relations: Iterable[Relation]) -> list[Relation]:
    """One relation per (type, subject, object): the most confident."""
    best: dict[tuple[str, str, str], Relation] = {}
    for r in relations:
        key = (r.relation, _concept(r.subject), _concept(r.object))
        if key not in best or best[key].confidence < r.confidence:
            best[key] = r
    return [best[key] for key in sorted(best)]


def _mention_infons(m: Mention) -> dict[str, str]:
    """A mention's BioC infons; a gene's organism and that organism's NCBI Gene id where known."""
    infons = {"type": m.type, "identifier": m.id, "name": m.name}
    if m.species:
        infons.update(species=m.species, ncbi_gene=m.species_gene_id)
    return infons


def _passages(record: Record) -> list[dict[str, Any]]:
    """The title, the abstract and each full-text section at its offset in `record.full_text`."""
    title, abstract = record.title, record.abstract
    passages: list[dict[str, Any]] = [{"infons": {"type": "title"}, "offset": 0, "text": title, "annotations": []}]
    if abstract:
        passages.append({"infons": {"type": "abstract"}, "offset": len(title) + 1, "text": abstract,
                         "annotations": []})
    full, cursor = record.full_text, len(record.text)
    for section in record.sections:
        text = f"{section.title}\n{section.text}" if section.title else section.text
        if text:
            cursor = full.index(text, cursor)
            passages.append({"infons": {"type": "section", "section_title": section.title}, "offset": cursor,
                             "text": text, "annotations": []})
            cursor += len(text)
    return passages


def bioc_json(records: Iterable[AnnotatedRecord], source: str = "litmine") -> dict[str, object]:
    """A BioC collection (as JSON-ready dicts) of the annotated records."""
    documents = []
    for item in records:
        passages = _passages(item.record)
        for number, m in enumerate(sorted(item.mentions, key=lambda m: (m.start, m.end))):
            passage = next(p for p in reversed(passages) if p["offset"] <= m.start)
            passage["annotations"].append({
                "id": str(number), "infons": _mention_infons(m),
                "text": m.text, "locations": [{"offset": m.start, "length": m.end - m.start}]})
        relations = [{
            "id": f"R{number}",
            "infons": {"type": r.relation, "entity1": _concept(r.subject), "entity2": _concept(r.object),
                       "negated": str(r.negated).lower(), "hedged": str(r.hedged).lower(),
                       "confidence": str(r.confidence), "sentence_index": str(r.sentence_index),
                       "extractor": r.extractor},
            "nodes": [],
        } for number, r in enumerate(_unique_relations(item.relations))]
        documents.append({"id": item.doc_id, "infons": {}, "passages": passages, "relations": relations})
    return {"source": source, "date": "", "key": "litmine.key", "infons": {}, "documents": documents}


def bioc_text(records: Iterable[AnnotatedRecord]) -> str:
    """The BioC collection as JSON text, ready for a file."""
    return json.dumps(bioc_json(records), indent=1, ensure_ascii=False)


def write_bioc_json(path: Path, records: Iterable[AnnotatedRecord]) -> Path:
    return write_text(path, bioc_text(records))


def has_pubtator_id(record: Record) -> bool:
    """PubTator names documents by PMID: a record without a numeric one cannot be written."""
    return bool(record.pmid and record.pmid.isdigit())


def pubtator(records: Iterable[AnnotatedRecord]) -> str:
    """PubTator text: |t| and |a| lines, one row per mention and per relation of the title and
    abstract, a blank line between documents. Records without a numeric PMID raise ValueError."""
    blocks = []
    for item in records:
        pmid, end = item.record.pmid, len(item.record.text)
        if not has_pubtator_id(item.record):
            raise ValueError(f"{item.record.uid}: PubTator needs a numeric PMID")
        lines = [f"{pmid}|t|{_one_line(item.record.title)}", f"{pmid}|a|{_one_line(item.record.abstract)}"]
        for m in sorted(item.mentions, key=lambda m: (m.start, m.end)):
            if m.end <= end:
                lines.append(f"{pmid}\t{m.start}\t{m.end}\t{m.text}\t{m.type}\t{m.id}")
        for r in _unique_relations(r for r in item.relations if max(r.subject.end, r.object.end) <= end):
            lines.append(f"{pmid}\t{r.relation}\t{_concept(r.subject)}\t{_concept(r.object)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _one_line(text: str) -> str:
    """PubTator keeps one line per passage; a newline becomes a space (offsets are unchanged)."""
    return text.replace("\r", " ").replace("\n", " ")


def write_pubtator(path: Path, records: Iterable[AnnotatedRecord]) -> Path:
    return write_text(path, pubtator(records))
