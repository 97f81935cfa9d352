"""What a batch written to the store becomes: records as rows of the `records` table, the
records a batch will write (each one's latest version, found by any of its ids), and the hash
that tells whether a gold document's annotations changed. `Store` writes a batch in one
`executemany` a statement (pipeline.records.store)."""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass, fields
from json.encoder import encode_basestring_ascii

from pipeline.datatypes import GoldDocument, Notice, Record, Section

COLUMNS = ("uid", "pmid", "pmcid", "doi", "title", "abstract", "sections", "journal", "year", "publication_types",
           "mesh_terms", "source", "fetched_at", "content_hash", "authors", "volume", "pages", "notices")
_RECORD_FIELDS = tuple(f.name for f in fields(Record))


def record_row(record: Record) -> tuple:
    """A record's row of `records`, in the order of COLUMNS."""
    return (record.uid, record.pmid, record.pmcid.upper() if record.pmcid else None,
            record.doi.lower() if record.doi else None, record.title, record.abstract,
            _json([asdict(s) for s in record.sections]), record.journal, record.year,
            _json(record.publication_types), _json(record.mesh_terms), record.source, record.fetched_at,
            record.content_hash(), _json(record.authors), record.volume, record.pages,
            _json([asdict(n) for n in record.notices]))


def _json(values: list) -> str:
    """A list as JSON; most corpus records' lists are empty, and `json.dumps([])` costs microseconds."""
    return json.dumps(values) if values else "[]"


def row_record(row: sqlite3.Row) -> Record:
    """A row of `records` as a Record (the columns it has: an older store's may lack some). Field
    names and the row's columns are listed once, and empty lists not parsed: a corpus import
    reads back 10,000 stored records to merge them."""
    columns = set(row.keys())
    values = {name: row[name] for name in _RECORD_FIELDS if name in columns}
    for name in ("publication_types", "mesh_terms", "authors"):
        values[name] = _parsed(values[name])
    values["sections"] = [Section(**s) for s in _parsed(row["sections"])]
    values["notices"] = [Notice(**n) for n in _parsed(row["notices"])]
    return Record(**values)


def _parsed(text: str) -> list:
    return [] if text == "[]" else json.loads(text)


class Pending:
    """What one `upsert_records` call will write: each record's latest version by uid, found by uid,
    PMID or PMCID among the stored copies and the batch's records before it."""

    def __init__(self, stored: list[Record]):
        self.inserts: dict[str, Record] = {}
        self.updates: dict[str, Record] = {}
        self.sources: set[tuple[str, str]] = set()
        self._by: dict[tuple[str, str], Record] = {}
        for record in stored:
            self._index(record)

    def find(self, record: Record) -> Record | None:
        for key in (("uid", record.uid), ("pmid", str(record.pmid or "")), ("pmcid", (record.pmcid or "").upper())):
            if key[1] and (found := self._by.get(key)) is not None:
                return found
        return None

    def keep(self, record: Record, insert: bool) -> None:
        (self.inserts if insert else self.updates)[record.uid] = record
        self._index(record)

    def _index(self, record: Record) -> None:
        self._by[("uid", record.uid)] = record
        if record.pmid:
            self._by[("pmid", str(record.pmid))] = record
        if record.pmcid:
            self._by[("pmcid", record.pmcid.upper())] = record


def annotations_hash(doc: GoldDocument) -> str:
    """What a gold document says, hashed: its text, entities and relations, as `json.dumps` of
    `[text, [entity fields], [relation fields]]` with sorted keys writes them. Written here field
    by field, at two thirds of json's cost (a corpus import hashes 340,000 mentions), where the
    offsets are ints and the other fields strs, as the parsers make them; else by json."""
    entities = []
    try:
        for e in doc.entities:
            if type(e.start) is not int or type(e.end) is not int:  # json writes a bool or a float otherwise
                raise TypeError
            entities.append(_ENTITY % (_str(e.ann_id), e.end, _str(e.identifiers), e.start, _str(e.text), _str(e.type)))
        relations = [_RELATION % (_str(r.arg1), _str(r.arg2), _str(r.novelty), _str(r.rel_id), _str(r.type))
                     for r in doc.relations]
        text = f"[{_str(doc.text)}, [{', '.join(entities)}], [{', '.join(relations)}]]"
    except TypeError:  # a field that is not a str
        text = json.dumps([doc.text, [vars(e) for e in doc.entities], [vars(r) for r in doc.relations]], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# json.dumps's own output for an entity's and a relation's fields, keys sorted
_ENTITY = '{"ann_id": %s, "end": %d, "identifiers": %s, "start": %d, "text": %s, "type": %s}'
_RELATION = '{"arg1": %s, "arg2": %s, "novelty": %s, "rel_id": %s, "type": %s}'
_str = encode_basestring_ascii  # how json.dumps writes a str (ensure_ascii)


@dataclass(frozen=True)
class GoldRows:
    """A gold document as the store writes it, in plain tuples: what an import's worker process
    hands the one that stores (unpickling 340,000 mention objects took a tenth of an import)."""

    key: tuple[str, str, str]  # (corpus, split, doc_id)
    text: str
    digest: str  # its annotations_hash
    entities: list[tuple]  # (ann_id, start, end, text, type, identifiers)
    relations: list[tuple]  # (type, arg1, arg2, rel_id, novelty)


def gold_rows(doc: GoldDocument) -> GoldRows:
    return GoldRows((doc.corpus, doc.split, doc.doc_id), doc.text, annotations_hash(doc),
                    [(e.ann_id, e.start, e.end, e.text, e.type, e.identifiers) for e in doc.entities],
                    [(r.type, r.arg1, r.arg2, r.rel_id, r.novelty) for r in doc.relations])
