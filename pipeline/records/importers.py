"""Import corpus and E-utilities files into the store: ``litmine import PATH...``.

Every corpus document becomes a Record (keyed by its PMID when it has one) so
the store can serve it as evidence and search it; its annotations become a
GoldDocument whose offsets run over ``title + " " + abstract``, in one canonical
shape whatever the format (pipeline.records.corpus_files), so that a re-import
never flip-flops.

A file's format, corpus and split come from its name, folders and first bytes
(pipeline.records.corpus_formats); PARSERS maps each format to its parser:
PubMed and PMC XML (pipeline.records.pubmed), PubTator and BioC
(pipeline.records.bioc_pubtator), DrugProt and ChemProt TSV splits
(pipeline.records.prot_tsv), and the claim corpora SciFact, Check-COVID and
PubMedQA (pipeline.records.claim_corpora). Each of those modules says the
choices it makes for its corpora.

Each file is parsed in full before anything is stored, so malformed input
stores nothing from that file; mentions whose text does not match their
offsets are kept as the corpus has them and counted as warnings. A parsed file
is stored `IMPORT_BATCH` items a transaction (small files share one): a corpus
of thousands of documents in one transaction held the store's write lock past
other commands' wait for it (`litmine run` beside a long import failed with
"database is locked"). An import cut short keeps the transactions it committed;
importing again adds the rest. With much to parse, the next files are parsed in
a worker process while one is stored (pipeline.records.read_ahead), in order, so
the store ends the same.
"""
from __future__ import annotations

import functools
import gc
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import MofNCompleteColumn, Progress

from pipeline import safexml
from pipeline.config import Settings
from pipeline.datatypes import Record
from pipeline.records.bioc_pubtator import parse_bioc_json, parse_bioc_xml, parse_pubtator
from pipeline.records.claim_corpora import (parse_check_covid_claims, parse_pubmedqa, parse_scifact_claims,
                                            parse_sentence_corpus)
from pipeline.records.corpus_files import Batch, ImportFailure, check_size, load_bytes
from pipeline.records.corpus_formats import detect_format
from pipeline.records.prot_tsv import parse_prot_split
from pipeline.records.pubmed import TruncatedXMLError, parse_pmc_xml, parse_pubmed_xml
from pipeline.records.read_ahead import AHEAD_MIN_BYTES, core_to_spare, parsed_in_order
from pipeline.records.store import Store, UpsertCounts
from pipeline.records.store_rows import gold_rows

_BIG_FILE = 1000  # records, above which a file gets its own progress bar
IMPORT_BATCH = 500  # records, documents or claims stored per transaction


@dataclass
class ImportReport:
    per_source: dict[str, UpsertCounts] = field(default_factory=dict)  # records per source
    gold: dict[str, UpsertCounts] = field(default_factory=dict)  # "corpus/split" -> gold docs and claims
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) for non-record files
    errors: list[str] = field(default_factory=list)  # "path:line: problem"
    warnings: list[str] = field(default_factory=list)  # one line per file with offset mismatches
    mismatches: dict[str, int] = field(default_factory=dict)  # "corpus/split" -> mentions off their offsets


# ---------------------------------------------------------------- driver


def import_paths(paths: Iterable[Path], store: Store, progress: bool = True,
                 max_bytes: int = Settings().max_import_bytes, processes: int = Settings().processes) -> ImportReport:
    """Import files and folders (walked recursively, in sorted order), file by file.

    Each file is parsed in full before any of it is stored, so a malformed one, or one larger
    than `max_bytes` once unpacked, lands in ``errors`` with nothing of it stored, and the
    import goes on. With `processes` above 1, much to parse and a core to spare, the next files
    are parsed in a worker process while this one is stored (pipeline.records.read_ahead).
    """
    report = ImportReport()
    jobs = [(path, fmt, max_bytes) for path, fmt in plan_import([Path(p) for p in paths], report)]
    worker = processes > 1 and sum(_size(path) for path, _, _ in jobs) >= AHEAD_MIN_BYTES and core_to_spare()
    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    parsed = parsed_in_order(parse_job, jobs, lambda job: job[0], worker)
    with Progress(*columns, disable=not progress) as bar, closing(parsed), _Shared(store) as shared, uncollected():
        files = bar.add_task("files", total=len(jobs))
        items = bar.add_task("records", visible=False)
        for (path, _, _), batch in zip(jobs, parsed):
            bar.update(files, description=path.name)
            if isinstance(batch, ImportFailure):
                report.errors.append(str(batch))
            else:
                size = len(batch.records) + len(batch.gold or batch.documents) + len(batch.claims)
                bar.reset(items, total=size, visible=size > _BIG_FILE)
                shared.before(size)
                store_parsed(path, batch, store, report, lambda done: bar.advance(items, done))
            bar.advance(files)
        bar.update(files, description="files")
        bar.update(items, visible=False)
    return report


@contextmanager
def uncollected() -> Iterator[None]:
    """Python's cyclic garbage collector paused: an import allocates millions of objects (rows,
    records, mentions) that hold no cycles and are freed as they go, yet each few thousand
    allocations started a collection, and every few dozen of those walked the whole parsed file
    (a tenth of the import's time). Whatever cycles it leaves are collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Shared(ExitStack):
    """Small files stored together, up to IMPORT_BATCH items a transaction: NLM-Gene's 550 files,
    each in transactions of its own, made 1,100 commits of one record or document each (and as
    many segments of the full-text index). A file of IMPORT_BATCH items or more is stored in
    transactions of its own, as before."""

    def __init__(self, store: Store):
        super().__init__()
        self.store, self.held, self.open = store, 0, False

    def before(self, size: int) -> None:
        """Ready the store for a file of `size` items: in the shared transaction if it fits."""
        if self.open and (self.held + size > IMPORT_BATCH or size >= IMPORT_BATCH):
            self.close()  # commits
            self.held, self.open = 0, False
        if size < IMPORT_BATCH:
            if not self.open:
                self.enter_context(self.store.transaction())
                self.open = True
            self.held += size


def parse_job(job: tuple[Path, str, int]) -> Batch:
    """One planned file (path, format, the most bytes it may unpack to) parsed whole and made
    ready to store (`ready_to_store`: in the worker, where an import parses ahead)."""
    path, fmt, max_bytes = job
    check_size(path, max_bytes)
    return ready_to_store(PARSERS[fmt](path))


def ready_to_store(batch: Batch) -> Batch:
    """The batch with its gold documents as the rows the store writes and their mentions off
    their offsets counted, the documents themselves dropped."""
    if batch.gold is None:
        batch.gold = [gold_rows(document) for document in batch.documents]
        for key, documents in _grouped(batch.documents, lambda d: f"{d.corpus}/{d.split}").items():
            bad = [(d, e) for d in documents for e in d.entities if d.text[e.start:e.end] != e.text]
            if bad:
                examples = "; ".join(f"doc {d.doc_id} [{e.start}:{e.end}] {e.text!r} reads {d.text[e.start:e.end]!r}"
                                     for d, e in bad[:3])
                batch.mismatches[key] = (len(bad), sum(len(d.entities) for d in documents), examples)
        batch.documents = []
    return batch


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the parse says what is wrong with it


def plan_import(paths: list[Path], report: ImportReport) -> list[tuple[Path, str]]:
    """The files to parse with their formats, a DrugProt/ChemProt split's folder once; non-record
    files go to ``report.skipped`` (benchmarks/bench.py times parsing them alone)."""
    jobs: list[tuple[Path, str]] = []
    units: set[Path] = set()
    for root in paths:
        if not root.exists():
            report.errors.append(f"{root}:0: no such file or directory")
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]:
            try:
                fmt, why = detect_format(path)
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


def store_parsed(path: Path, batch: Batch, store: Store, report: ImportReport,
                 stored: Callable[[int], None] = lambda items: None) -> None:
    """Store one parsed file, IMPORT_BATCH items a transaction, and count what it added, per
    source and per gold split (benchmarks/bench.py times it apart from parsing); `stored` is told
    how many items each transaction stored."""
    for source, records in _grouped(batch.records, lambda r: r.source).items():
        for part in _parts(records):
            _tally(report.per_source, source, store.upsert_records(part))
            stored(len(part))
    batch = ready_to_store(batch)
    for key, documents in _grouped(batch.gold or [], lambda d: "/".join(d.key[:2])).items():
        for part in _parts(documents):
            _tally(report.gold, key, store.add_gold_rows(part))
            stored(len(part))
    for key, (bad, total, examples) in batch.mismatches.items():
        report.mismatches[key] = report.mismatches.get(key, 0) + bad
        report.warnings.append(f"{path}: {bad} of {total} {key} mentions do not match their offsets "
                               f"(kept as given), e.g. {examples}")
    for key, claims in _grouped(batch.claims, lambda c: f"{c.corpus}/{c.split}").items():
        for part in _parts(claims):
            _tally(report.gold, key, store.add_gold_claims(part))
            stored(len(part))


def _parts(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), IMPORT_BATCH):
        yield items[start:start + IMPORT_BATCH]


def _tally(totals: dict[str, UpsertCounts], key: str, counts: UpsertCounts) -> None:
    totals[key] = totals.get(key, UpsertCounts())
    totals[key] += counts


def _grouped(items: list[Any], key: Callable[[Any], str]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


# ---------------------------------------------------------------- PubMed / PMC (pipeline.records.pubmed)


def _entrez(parse: Callable[[bytes, str], list[Record]], source: str, path: Path) -> Batch:
    """A PubMed or PMC XML file parsed by `parse`; a truncated one is an ImportFailure at its line."""
    try:
        return Batch(records=parse(load_bytes(path), source))
    except safexml.UnsafeXML as exc:
        raise ImportFailure(f"{path}:1: {str(exc).removeprefix(f'{source}: ')}") from exc
    except TruncatedXMLError as exc:
        cause = exc.__cause__
        line = cause.position[0] if isinstance(cause, ET.ParseError) else 1
        problem = str(exc).removeprefix(f"{source}: ")
        raise ImportFailure(f"{path}:{line}: {problem}") from exc


# The parser of each format detect_format names.
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
