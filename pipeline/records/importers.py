"""Import corpus and E-utilities files into the store: ``litmine import PATH...``.

Every corpus document becomes a Record (keyed by its PMID when it has one) so
the store can serve it as evidence and search it; its annotations become a
GoldDocument whose offsets run over ``title + " " + abstract``.

Choices a caller should know:

* One canonical gold shape whatever the format, so that the same BC5CDR or
  BioRED document imported from PubTator, BioC XML and BioC JSON is stored
  once and a re-import never flip-flops: entities are sorted by span and
  numbered "0", "1", ... (their relations name concept identifiers, not
  annotation ids), relations are de-duplicated and sorted, BioC's positional
  relation ids are dropped, and BC5CDR's IndividualMention parts of composite
  mentions are dropped (PubTator and the official evaluation list only the
  composite mention, whose span covers them).
* DrugProt and ChemProt keep their own annotation ids (T1, ...) because their
  relations name them. A corpus split is the set of TSVs in one folder and is
  imported as a unit. ChemProt relations keep the CPR group as ``type``
  ("CPR:4") and the fine label in ``rel_id`` ("INHIBITOR"); its
  ``*_gold_standard.tsv`` is skipped when ``*_relations.tsv`` is beside it
  (it holds the same rows, those flagged Y).
* SciFact and Check-COVID abstracts come split into sentences: the Record
  holds them joined by " ", and a GoldDocument (split "corpus") holds one
  "sentence" entity per sentence (ann_id "S<i>"), so a rationale's sentence
  index maps to a span of the record's text. A SciFact claim gives one
  GoldClaim per cited document, its rationale sets merged into ``sentences``.
* PubMedQA's split comes from ``test_ground_truth.json`` beside
  ``ori_pqal.json`` (test if listed, else train); Check-COVID's from its
  train/dev/test folders, NLM-Gene's from ``Pmidlist.{Train,Test}.txt``.
* Each file is parsed in full before anything is stored, so malformed input
  stores nothing from that file; mentions whose text does not match their
  offsets are kept as the corpus has them and counted as warnings.
"""
from __future__ import annotations

import functools
import gzip
import json
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import MofNCompleteColumn, Progress

from pipeline.datatypes import GoldClaim, GoldDocument, GoldEntity, GoldRelation, Record, record_uid
from pipeline.records.pubmed import TruncatedXMLError, parse_pmc_xml, parse_pubmed_xml
from pipeline.records.store import Store, UpsertCounts

CORPORA = ("bc5cdr", "biored", "drugprot", "chemprot", "nlm_gene", "ncbi_disease", "scifact",
           "pubmedqa", "check_covid")
# How a corpus shows in a file's name or folders, for files copied out of ../shared/corpora.
_CORPUS_PATTERNS = (
    ("bc5cdr", r"bc5cdr|\bcdr_"), ("biored", r"biored"), ("drugprot", r"drugprot"),
    ("chemprot", r"chemprot"), ("nlm_gene", r"nlm[_-]?gene|pmidlist"),
    ("ncbi_disease", r"ncbi[_-]?disease|ncbi\w*corpus"), ("scifact", r"scifact"),
    ("pubmedqa", r"pubmedqa|pqal"), ("check_covid", r"check[_-]?covid|covidcheck"),
)
_SPLIT_PATTERNS = (("train", r"train"), ("dev", r"dev"), ("test", r"test"))

# Files that hold no records, by name, with the reason reported for them.
_SKIP_NAMES = (
    (r"^(readme|licen[cs]e)", "documentation or licence"),
    (r"\.pdf$", "a PDF document"),
    (r"^\.", "a hidden file"),
    (r"^pmidlist\.\w+\.txt$", "NLM-Gene split list (read with its BioC files)"),
    (r"^test_ground_truth\.json$", "PubMedQA test labels only (read with ori_pqal.json for its split)"),
    (r"^check-covid_all\.json$", "all Check-COVID claims without their split (the per-split files hold them)"),
    (r"_composed\+extracted\.json$", "the union of the _composed and _extracted files beside it"),
)
# Formats recognised by name; the rest are sniffed from their first bytes.
_NAME_FORMATS = (
    (r"\.pubtator(\.txt)?$", "pubtator"),
    (r"\.bioc\.xml$", "bioc_xml"),
    (r"\.bioc\.json$", "bioc_json"),
    (r"\.nxml$", "pmc"),
    (r"^claims_\w+\.jsonl$", "scifact_claims"),
    (r"^ori_pqal\.json$", "pubmedqa"),
    (r"^covidcheck_\w+\.json$", "check_covid_claims"),
)
_XML_ROOTS = {"PubmedArticleSet": "pubmed", "pmc-articleset": "pmc", "article": "pmc", "collection": "bioc_xml"}
_PROT_ROLES = {"abstracts": r"_abstrac(t)?s(_gs)?\.tsv$", "entities": r"_entities(_gs)?\.tsv$",
               "relations": r"_relations(_gs)?\.tsv$", "gold_standard": r"_gold_standard\.tsv$"}
# BioC infons that carry a mention's concept identifiers (BioRED, BC5CDR, NLM-Gene).
_BIOC_ID_INFONS = ("identifier", "MESH", "NCBI Gene identifier")
_CHECK_COVID_LABELS = {"SUPPORT": "SUPPORT", "REFUTE": "REFUTE", "NOTENOUGHINFO": "NEI"}
_PUBTATOR_TEXT = re.compile(r"^(\d+)\s*\|([ta])\|\s?(.*)$")
_READ_ERRORS = (OSError, EOFError, zlib.error)  # zlib: a corrupt .gz
_BIG_FILE = 1000  # records, above which a file gets its own progress bar


class ImportFailure(ValueError):
    """Malformed input; the message reads "path:line: problem"."""


@dataclass
class ImportReport:
    per_source: dict[str, UpsertCounts] = field(default_factory=dict)  # records per source
    gold: dict[str, UpsertCounts] = field(default_factory=dict)  # "corpus/split" -> gold docs and claims
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) for non-record files
    errors: list[str] = field(default_factory=list)  # "path:line: problem"
    warnings: list[str] = field(default_factory=list)  # one line per file with offset mismatches
    mismatches: dict[str, int] = field(default_factory=dict)  # "corpus/split" -> mentions off their offsets


@dataclass
class Batch:
    """Everything one file (or one TSV corpus split) holds, parsed before anything is stored."""

    records: list[Record] = field(default_factory=list)
    documents: list[GoldDocument] = field(default_factory=list)
    claims: list[GoldClaim] = field(default_factory=list)


# ---------------------------------------------------------------- driver


def import_paths(paths: Iterable[Path], store: Store, progress: bool = True) -> ImportReport:
    """Import files and folders (walked recursively, in sorted order), file by file.

    Each file is parsed in full before any of it is stored, so a malformed one
    lands in ``errors`` with nothing of it stored, and the import goes on.
    """
    report = ImportReport()
    jobs = _plan([Path(p) for p in paths], report)
    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    with Progress(*columns, disable=not progress) as bar:
        files = bar.add_task("files", total=len(jobs))
        items = bar.add_task("records", visible=False)
        for path, fmt in jobs:
            bar.update(files, description=path.name)
            try:
                batch = PARSERS[fmt](path)
            except ImportFailure as exc:
                report.errors.append(str(exc))
            else:
                size = len(batch.records) + len(batch.documents) + len(batch.claims)
                bar.reset(items, total=size, visible=size > _BIG_FILE)
                _store(path, batch, store, report, lambda: bar.advance(items))
            bar.advance(files)
        bar.update(files, description="files")
        bar.update(items, visible=False)
    return report


def _plan(paths: list[Path], report: ImportReport) -> list[tuple[Path, str]]:
    """The files to parse with their formats; non-record files go to ``report.skipped``."""
    jobs: list[tuple[Path, str]] = []
    units: set[Path] = set()
    for root in paths:
        if not root.exists():
            report.errors.append(f"{root}:0: no such file or directory")
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]:
            try:
                fmt, why = _sniff(path)
            except ImportFailure as exc:
                report.errors.append(str(exc))
                continue
            if fmt is None:
                report.skipped.append((str(path), why))
            elif fmt != "prot_tsv":
                jobs.append((path, fmt))
            elif path.parent not in units:  # a DrugProt/ChemProt split: its folder's TSVs as one unit
                units.add(path.parent)
                jobs.append((path, fmt))
    return jobs


def _store(path: Path, batch: Batch, store: Store, report: ImportReport, tick: Callable[[], None]) -> None:
    """Store one parsed file in one transaction and count what it added, per source and per gold split."""
    with store.transaction():
        for source, records in _grouped(batch.records, lambda r: r.source).items():
            _tally(report.per_source, source, store.upsert_records(_ticking(records, tick)))
        for key, documents in _grouped(batch.documents, lambda d: f"{d.corpus}/{d.split}").items():
            _tally(report.gold, key, store.add_gold_documents(_ticking(documents, tick)))
            _count_mismatches(path, key, documents, report)
        for key, claims in _grouped(batch.claims, lambda c: f"{c.corpus}/{c.split}").items():
            _tally(report.gold, key, store.add_gold_claims(_ticking(claims, tick)))


def _tally(totals: dict[str, UpsertCounts], key: str, counts: UpsertCounts) -> None:
    totals[key] = totals.get(key, UpsertCounts())
    totals[key] += counts


def _grouped(items: list[Any], key: Callable[[Any], str]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def _ticking(items: list[Any], tick: Callable[[], None]) -> Iterator[Any]:
    for item in items:
        yield item
        tick()


def _count_mismatches(path: Path, key: str, documents: list[GoldDocument], report: ImportReport) -> None:
    """Count mentions whose text is not what their offsets select, with one warning per file."""
    bad = [(d, e) for d in documents for e in d.entities if d.text[e.start:e.end] != e.text]
    if not bad:
        return
    report.mismatches[key] = report.mismatches.get(key, 0) + len(bad)
    total = sum(len(d.entities) for d in documents)
    examples = "; ".join(f"doc {d.doc_id} [{e.start}:{e.end}] {e.text!r} reads {d.text[e.start:e.end]!r}"
                         for d, e in bad[:3])
    report.warnings.append(f"{path}: {len(bad)} of {total} {key} mentions do not match their offsets "
                           f"(kept as given), e.g. {examples}")


# ---------------------------------------------------------------- format detection


def detect_format(path: Path) -> str | None:
    """The parser a file needs, by its name and first bytes; None for files holding no records.

    Raises ImportFailure for a file that cannot be read.
    """
    return _sniff(path)[0]


def _sniff(path: Path) -> tuple[str | None, str]:
    """(format, "") for a record file, else (None, why it holds no records)."""
    name = path.name.lower()
    for pattern, why in _SKIP_NAMES:
        if re.search(pattern, name):
            return None, why
    if re.search(_PROT_ROLES["gold_standard"], name) and _prot_files(path.parent).get("relations"):
        return None, "the relations flagged Y in the *_relations.tsv beside it"
    if any(re.search(pattern, name) for pattern in _PROT_ROLES.values()):
        return "prot_tsv", ""
    for pattern, fmt in _NAME_FORMATS:
        if re.search(pattern, name):
            return fmt, ""
    head = _load(path, limit=1 << 16).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        root = re.search(r"<(?![?!])([A-Za-z_][\w.:-]*)", head)
        tag = root.group(1) if root else ""
        if tag in _XML_ROOTS:
            return _XML_ROOTS[tag], ""
        return None, "an HTML page" if tag.lower() == "html" else f"<{tag}> XML holds no records"
    if head.startswith("{"):
        return _sniff_json(head)
    if _PUBTATOR_TEXT.match(head.split("\n", 1)[0]):
        return "pubtator", ""
    if head and all(line.strip().isdigit() for line in head.splitlines() if line.strip()):
        return None, "a list of ids, not records"
    return None, "no known record format"


def _sniff_json(head: str) -> tuple[str | None, str]:
    if re.search(r'"documents"\s*:', head) and '"passages"' in head:
        return "bioc_json", ""
    try:
        first = json.loads(head.split("\n", 1)[0])
    except ValueError:
        return None, "JSON in no known record format"
    keys = set(first) if isinstance(first, dict) else set()
    if {"cord_id", "abstract"} <= keys:
        return "check_covid_corpus", ""
    if {"doc_id", "abstract"} <= keys:
        return "scifact_corpus", ""
    if {"claim", "cord_id"} <= keys:
        return "check_covid_claims", ""
    if "claim" in keys:
        return "scifact_claims", ""
    return None, "JSON in no known record format"


def _corpus_of(path: Path) -> str:
    """The corpus a file belongs to, from its name and the folders above it."""
    where = "/".join(path.parts[-4:]).lower()
    for corpus, pattern in _CORPUS_PATTERNS:
        if re.search(pattern, where):
            return corpus
    raise ImportFailure(f"{path}:1: cannot tell which corpus this is (expected one of {', '.join(CORPORA)} "
                        "in its name or folders)")


def _split_of(path: Path) -> str:
    """train/dev/test from the file's name, else from its folder or the one above."""
    for part in (path.name, path.parent.name, path.parent.parent.name):
        for split, pattern in _SPLIT_PATTERNS:
            if re.search(pattern, part.lower()):
                return split
    raise ImportFailure(f"{path}:1: cannot tell its split (train, dev or test) from its name or folders")


# ---------------------------------------------------------------- shared parsing helpers


def _load(path: Path, limit: int = -1) -> bytes:
    """The file's bytes (decompressed when it ends in .gz), or up to ``limit`` of them."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            return handle.read(limit)
    except _READ_ERRORS as exc:
        raise ImportFailure(f"{path}:1: cannot read: {exc}") from exc


def _read_text(path: Path) -> str:
    data = _load(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFailure(f"{path}:{line}: not UTF-8 text") from exc


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines (split on newlines only: abstracts may hold form feeds or U+2028)."""
    for number, line in enumerate(_read_text(path).split("\n"), 1):
        line = line.rstrip("\r")
        if line.strip():
            yield number, line


def _columns(path: Path, number: int, line: str, widths: tuple[int, ...]) -> list[str]:
    columns = line.split("\t")
    if len(columns) not in widths:
        expected = " or ".join(str(w) for w in widths)
        raise ImportFailure(f"{path}:{number}: expected {expected} tab-separated columns, got {len(columns)}")
    return columns


def _json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailure(f"{path}:{exc.lineno}: bad JSON: {exc.msg}") from exc


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    for number, line in _lines(path):
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFailure(f"{path}:{number}: bad JSON: {exc.msg}") from exc


def _line_of(text: str, needle: str) -> int:
    """The line where ``needle`` first shows, to place an error found after parsing."""
    found = text.find(needle)
    return text.count("\n", 0, found) + 1 if found >= 0 else 1


@contextmanager
def _at(path: Path, line: int | Callable[[], int]) -> Iterator[None]:
    """Turn a missing field or a bad value into an ImportFailure naming the file and line.

    ``line`` may be a function, for formats where finding the line costs a search.
    """
    try:
        yield
    except ImportFailure:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        number = line() if callable(line) else line
        problem = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise ImportFailure(f"{path}:{number}: {problem}") from exc


def _corpus_document(corpus: str, split: str, doc_id: str, title: str, abstract: str,
                     entities: list[GoldEntity], relations: list[GoldRelation],
                     renumber: bool = True) -> tuple[Record, GoldDocument]:
    """A corpus document as a Record and a GoldDocument in the canonical gold shape."""
    entities = sorted(entities, key=lambda e: (e.start, e.end, e.type, e.identifiers, e.text, e.ann_id))
    if renumber:
        for number, entity in enumerate(entities):
            entity.ann_id = str(number)
    unique = {(r.type, r.arg1, r.arg2): r for r in reversed(relations)}  # the first of duplicates wins
    pmid = doc_id if doc_id.isdigit() else None
    record = Record(uid=record_uid(pmid=pmid, source=corpus, local_id=doc_id), title=title,
                    abstract=abstract, pmid=pmid, source=corpus)
    document = GoldDocument(corpus, split, doc_id, record.text, entities,
                            [unique[key] for key in sorted(unique)])
    return record, document


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


def _batch(pairs: Iterable[tuple[Record, GoldDocument]]) -> Batch:
    batch = Batch()
    for record, document in pairs:
        batch.records.append(record)
        batch.documents.append(document)
    return batch


# ---------------------------------------------------------------- PubMed / PMC (pipeline.records.pubmed)


def _entrez(parse: Callable[[bytes, str], list[Record]], source: str, path: Path) -> Batch:
    try:
        return Batch(records=parse(_load(path), source))
    except TruncatedXMLError as exc:
        cause = exc.__cause__
        line = cause.position[0] if isinstance(cause, ET.ParseError) else 1
        problem = str(exc).removeprefix(f"{source}: ")
        raise ImportFailure(f"{path}:{line}: {problem}") from exc


# ---------------------------------------------------------------- PubTator


def parse_pubtator(path: Path) -> Batch:
    """PubTator text (BC5CDR, BioRED, NCBI-disease): |t| and |a| lines, mention and relation rows."""
    corpus, split = _corpus_of(path), _split_of(path)
    documents: list[dict[str, Any]] = []
    for number, line in _lines(path):
        text_line = _PUBTATOR_TEXT.match(line)
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
        columns = _columns(path, number, line, (6, 7) if mention else (4, 5))
        if current is None or columns[0].strip() != current["pmid"]:
            raise ImportFailure(f"{path}:{number}: row for PMID {columns[0].strip()} outside its document")
        if mention:  # pmid start end text type ids [composite mention's parts]
            current["entities"].append(GoldEntity("", int(columns[1]), int(columns[2]), columns[3],
                                                  columns[4].strip(), columns[5].strip()))
        else:  # BC5CDR: pmid CID chemical disease; BioRED: pmid type id1 id2 novelty
            novelty = columns[4].strip() if len(columns) == 5 else ""
            current["relations"].append(GoldRelation(columns[1].strip(), columns[2].strip(),
                                                     columns[3].strip(), novelty=novelty))
    return _batch(_corpus_document(corpus, split, d["pmid"], d["title"], d["abstract"], d["entities"],
                                   d["relations"]) for d in documents)


# ---------------------------------------------------------------- BioC (XML and JSON)


def parse_bioc_xml(path: Path) -> Batch:
    """BioC XML (BC5CDR, BioRED, NLM-Gene), read into BioC JSON's shape and built from there."""
    text = _read_text(path)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ImportFailure(f"{path}:{exc.position[0]}: malformed XML: {str(exc).split(':')[0]}") from exc
    if root.tag != "collection":
        raise ImportFailure(f"{path}:1: expected a BioC <collection>, got <{root.tag}>")
    documents = [_bioc_xml_document(element) for element in root.iter("document")]
    return _bioc_batch(path, text, documents, "<id>{}</id>")


def parse_bioc_json(path: Path) -> Batch:
    """BioC JSON (BioRED dev/test)."""
    text = _read_text(path)
    collection = _json(path, text)
    with _at(path, 1):
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
    corpus = _corpus_of(path)
    pairs = []
    for document in documents:
        doc_id = str(document.get("id", "")) if isinstance(document, dict) else ""
        with _at(path, lambda: _line_of(text, id_needle.format(doc_id))):
            if not doc_id:
                raise ValueError("document without an id")
            split = _nlm_gene_splits(path.parent).get(doc_id) if corpus == "nlm_gene" else _split_of(path)
            if split is None:
                raise ValueError(f"document {doc_id} is in no Pmidlist.*.txt")
            pairs.append(_bioc_document(corpus, split, doc_id, document))
    return _batch(pairs)


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
            spans = [(int(loc["offset"]), int(loc["offset"]) + int(loc["length"])) for loc in annotation["locations"]]
            identifiers = next((infons[k] for k in _BIOC_ID_INFONS if k in infons), "")
            entities.append(GoldEntity("", min(s for s, _ in spans), max(e for _, e in spans),
                                       annotation["text"], infons.get("type", "").strip(), identifiers.strip()))
    relations = []
    for relation in document.get("relations", []):
        infons = {key: value.strip() for key, value in relation["infons"].items()}
        relations.append(GoldRelation(infons.get("type") or infons["relation"],
                                      infons.get("entity1") or infons["Chemical"],
                                      infons.get("entity2") or infons["Disease"], novelty=infons.get("novel", "")))
    title = text[:title_end or 0]
    return _corpus_document(corpus, split, doc_id, title, text[len(title) + 1:], entities, relations)


def _nlm_gene_splits(folder: Path) -> dict[str, str]:
    """PMID -> split from the Pmidlist.<Split>.txt files in the folder or the one above."""
    splits: dict[str, str] = {}
    for listing in sorted(folder.glob("Pmidlist.*.txt")) + sorted(folder.parent.glob("Pmidlist.*.txt")):
        split = _split_of(Path(listing.name))
        splits.update({line.strip(): split for _, line in _lines(listing) if line.strip().isdigit()})
    return splits


# ---------------------------------------------------------------- DrugProt / ChemProt TSVs


def _prot_files(folder: Path) -> dict[str, Path]:
    """The TSVs of one DrugProt/ChemProt split, by role (abstracts, entities, relations, gold_standard)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.tsv")):
        for role, pattern in _PROT_ROLES.items():
            if re.search(pattern, path.name.lower()):
                found.setdefault(role, path)
    return found


def parse_prot_split(path: Path) -> Batch:
    """A DrugProt or ChemProt split: the abstracts, entities and relations TSVs in path's folder."""
    files = _prot_files(path.parent)
    if "abstracts" not in files:
        raise ImportFailure(f"{path}:1: no *_abstracts.tsv beside it to attach its annotations to")
    corpus, split = _corpus_of(files["abstracts"]), _split_of(files["abstracts"])
    documents: dict[str, dict[str, Any]] = {}
    for number, line in _lines(files["abstracts"]):
        pmid, title, abstract = _columns(files["abstracts"], number, line, (3,))
        documents[pmid.strip()] = {"title": title, "abstract": abstract, "entities": [], "relations": []}

    def document(source: Path, number: int, pmid: str) -> dict[str, Any]:
        if pmid.strip() not in documents:
            raise ImportFailure(f"{source}:{number}: PMID {pmid} is not in {files['abstracts'].name}")
        return documents[pmid.strip()]

    if "entities" in files:
        for number, line in _lines(files["entities"]):
            pmid, ann_id, kind, start, end, text = _columns(files["entities"], number, line, (6,))
            with _at(files["entities"], number):
                document(files["entities"], number, pmid)["entities"].append(
                    GoldEntity(ann_id, int(start), int(end), text, kind))
    relations = files.get("relations") or files.get("gold_standard")
    if relations:
        for number, line in _lines(relations):
            columns = _columns(relations, number, line, (4, 6))  # pmid type [flag fine] Arg1:T Arg2:T
            arg1, arg2 = (c.strip().split(":", 1)[-1] for c in columns[-2:])
            fine = columns[3].strip() if len(columns) == 6 else ""
            document(relations, number, columns[0])["relations"].append(
                GoldRelation(columns[1].strip(), arg1, arg2, rel_id=fine))
    return _batch(_corpus_document(corpus, split, pmid, d["title"], d["abstract"], d["entities"],
                                   d["relations"], renumber=False) for pmid, d in documents.items())


# ---------------------------------------------------------------- claim corpora


def parse_sentence_corpus(path: Path, corpus: str, id_key: str) -> Batch:
    """SciFact corpus.jsonl(.gz) or Check-COVID corpus.json: sentence-split abstracts, one per line."""
    pairs = []
    for number, row in _json_lines(path):
        with _at(path, number):
            pairs.append(_sentence_document(corpus, str(row[id_key]), row["title"], row["abstract"]))
    return _batch(pairs)


def parse_scifact_claims(path: Path) -> Batch:
    """claims_<split>.jsonl: one GoldClaim per (claim, cited document); test claims carry no label."""
    split, claims = _split_of(path), []
    for number, row in _json_lines(path):
        with _at(path, number):
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
    split, claims = _split_of(path), []
    for number, row in _json_lines(path):
        with _at(path, number):
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
    test_ids = set(_json(truth, _read_text(truth)))
    text = _read_text(path)
    questions = _json(path, text)
    if not isinstance(questions, dict):
        raise ImportFailure(f"{path}:1: expected an object keyed by PMID")
    batch = Batch()
    for pmid, item in questions.items():
        with _at(path, lambda: _line_of(text, f'"{pmid}"')):
            if not isinstance(item["CONTEXTS"], list):
                raise ValueError(f"PMID {pmid}: CONTEXTS is not a list")
            year = str(item.get("YEAR") or "")
            batch.records.append(Record(uid=record_uid(pmid=pmid), abstract=" ".join(item["CONTEXTS"]), pmid=pmid,
                                        year=int(year) if year.isdigit() else None,
                                        mesh_terms=list(item.get("MESHES", [])), source="pubmedqa"))
            split = "test" if pmid in test_ids else "train"
            batch.claims.append(GoldClaim("pubmedqa", split, pmid, item["QUESTION"], pmid, item["final_decision"]))
    return batch


PARSERS: dict[str, Callable[[Path], Batch]] = {
    "pubmed": functools.partial(_entrez, parse_pubmed_xml, "pubmed"),
    "pmc": functools.partial(_entrez, parse_pmc_xml, "pmc"),
    "pubtator": parse_pubtator,
    "bioc_xml": parse_bioc_xml,
    "bioc_json": parse_bioc_json,
    "prot_tsv": parse_prot_split,
    "scifact_corpus": functools.partial(parse_sentence_corpus, corpus="scifact", id_key="doc_id"),
    "scifact_claims": parse_scifact_claims,
    "check_covid_corpus": functools.partial(parse_sentence_corpus, corpus="check_covid", id_key="cord_id"),
    "check_covid_claims": parse_check_covid_claims,
    "pubmedqa": parse_pubmedqa,
}
