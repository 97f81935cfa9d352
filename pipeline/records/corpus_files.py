"""What the corpus parsers share: the Batch a file parses into, ImportFailure naming the file
and line of a problem, reading files (gzipped or not, UTF-8, lines, TSV columns, JSON), and
the canonical gold shape every corpus document takes.

The canonical shape is one whatever the format, so that the same BC5CDR or BioRED document
imported from PubTator, BioC XML and BioC JSON is stored once and a re-import never
flip-flops: entities are sorted by span and numbered "0", "1", ... (their relations name
concept identifiers, not annotation ids) and relations are de-duplicated and sorted.
"""
from __future__ import annotations

import gzip
import json
import operator
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.datatypes import GoldClaim, GoldDocument, GoldEntity, GoldRelation, Record, record_uid
from pipeline.records.store_rows import GoldRows

_READ_ERRORS = (OSError, EOFError, zlib.error)  # zlib: a corrupt .gz
_BY_SPAN = operator.attrgetter("start", "end", "type", "identifiers", "text", "ann_id")  # the canonical order


class ImportFailure(ValueError):
    """Malformed input; the message reads "path:line: problem"."""


@dataclass
class Batch:
    """Everything one file (or one TSV corpus split) holds, parsed before anything is stored."""

    records: list[Record] = field(default_factory=list)
    documents: list[GoldDocument] = field(default_factory=list)
    claims: list[GoldClaim] = field(default_factory=list)
    # the documents as the store writes them, and per "corpus/split" the mentions off their offsets
    # (count, of how many, examples): made by importers.ready_to_store, in the worker process that
    # parses ahead, which then drops `documents`
    gold: list[GoldRows] | None = None
    mismatches: dict[str, tuple[int, int, str]] = field(default_factory=dict)


def load_bytes(path: Path, limit: int = -1) -> bytes:
    """The file's bytes (decompressed when it ends in .gz), or up to ``limit`` of them."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            return handle.read(limit)
    except _READ_ERRORS as exc:
        raise ImportFailure(f"{path}:1: cannot read: {exc}") from exc


def check_size(path: Path, max_bytes: int) -> None:
    """Refuse a file that is, or unpacks to, more than `max_bytes`: a gzip bomb packs terabytes
    into kilobytes, so a .gz is unpacked once to count (nothing kept) before it is parsed."""
    if not path.name.endswith(".gz"):
        size = path.stat().st_size
        if size > max_bytes:
            raise ImportFailure(f"{path}:1: too large ({size / 2**20:.0f} MB; the limit is "
                                f"{max_bytes / 2**20:g} MB, LITMINE_MAX_IMPORT_MB)")
        return
    unpacked = 0
    try:
        with gzip.open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                unpacked += len(chunk)
                if unpacked > max_bytes:
                    raise ImportFailure(f"{path}:1: unpacks to more than {max_bytes / 2**20:g} MB (the limit, "
                                        "LITMINE_MAX_IMPORT_MB; a gzip bomb?)")
    except _READ_ERRORS as exc:
        raise ImportFailure(f"{path}:1: cannot read: {exc}") from exc


def read_text(path: Path) -> str:
    """The file's text, which must be UTF-8."""
    data = load_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFailure(f"{path}:{line}: not UTF-8 text") from exc


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines (split on newlines only: abstracts may hold form feeds or U+2028)."""
    for number, line in enumerate(read_text(path).split("\n"), 1):
        line = line.rstrip("\r")
        if line and not line.isspace():  # not `line.strip()`: a copy of each line
            yield number, line


def tsv_columns(path: Path, number: int, line: str, widths: tuple[int, ...]) -> list[str]:
    """Line `number`'s tab-separated columns, which must be one of `widths` in number."""
    columns = line.split("\t")
    if len(columns) not in widths:
        expected = " or ".join(str(w) for w in widths)
        raise ImportFailure(f"{path}:{number}: expected {expected} tab-separated columns, got {len(columns)}")
    return columns


def tsv_rows(path: Path, widths: tuple[int, ...]) -> Iterator[tuple[int, list[str]]]:
    """Numbered non-blank lines' columns, each line one of `widths` columns wide (`tsv_columns`'
    check inline: DrugProt's and ChemProt's 300,000 lines cost a second more through a call each)."""
    for number, line in numbered_lines(path):
        columns = line.split("\t")
        if len(columns) not in widths:
            tsv_columns(path, number, line, widths)  # raises the error
        yield number, columns


def parse_json(path: Path, text: str) -> Any:
    """`text`, the file's content, as JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailure(f"{path}:{exc.lineno}: bad JSON: {exc.msg}") from exc


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Numbered lines of a JSON-lines file, each parsed."""
    for number, line in numbered_lines(path):
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFailure(f"{path}:{number}: bad JSON: {exc.msg}") from exc


def line_of(text: str, needle: str) -> int:
    """The line where ``needle`` first shows, to place an error found after parsing."""
    found = text.find(needle)
    return text.count("\n", 0, found) + 1 if found >= 0 else 1


@contextmanager
def at_line(path: Path, line: int | Callable[[], int]) -> Iterator[None]:
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


def corpus_document(corpus: str, split: str, doc_id: str, title: str, abstract: str,
                    entities: list[GoldEntity], relations: list[GoldRelation],
                    renumber: bool = True) -> tuple[Record, GoldDocument]:
    """A corpus document as a Record and a GoldDocument in the canonical gold shape: entities
    sorted by span and, when `renumber`, numbered "0", "1", ...; relations de-duplicated and sorted."""
    entities = sorted(entities, key=_BY_SPAN)
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


def batch_of(pairs: Iterable[tuple[Record, GoldDocument]]) -> Batch:
    """A Batch of (record, gold document) pairs."""
    batch = Batch()
    for record, document in pairs:
        batch.records.append(record)
        batch.documents.append(document)
    return batch
