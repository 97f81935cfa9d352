"""Reading many records over several processes: each worker loads the entity pipeline and the
relation models once, then reads chunks of records with `extract_records`.

The models run on one core per process (spaCy, the parser and the SVMs hold no thread pool of
their own here), so two workers read up to twice as many records a second (1.55 times,
measured on two otherwise idle cores), less what they cost to start: each loads its own models
(7 s on an idle machine, both workers at once). A pool is therefore worth it only for many
records (`POOL_MIN_RECORDS`). Workers are spawned, not forked: a forked worker would share the
parent's open SQLite connections (the KB the linker reads) and whatever locks the parent's
threads (a flow's tasks) held at that moment. spaCy's own `nlp.pipe(n_process=...)` cannot do
this: it ships docs between processes with `Doc.to_bytes`, which cannot serialize the spans
`doc._.abbreviations` holds, and it would leave the relation models in one process.

A record reads the same in any chunk and any worker (`extract_records`), and results come back
in input order, so a pooled read equals a read in one process.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from pipeline.datatypes import ExtractedRecord, Record
from pipeline.entities.dictionary import EntityTagger
from pipeline.relations.triggers import RelationExtractor
from pipeline.verdicts.evidence import extract_records

# Below this many records one process reads faster than two that must load their models first:
# `benchmarks/throughput.py` put the break-even at 419 abstracts on an idle machine (workers ready in
# 6.7 s) and at 609 at load average 8 (README "Entities", throughput).
POOL_MIN_RECORDS = 500
CHUNK = 50  # records a worker reads in one `extract_records` call: large enough to batch the models' work
Readers = Callable[[], tuple[EntityTagger, RelationExtractor]]  # picklable: it runs in each worker

_readers: tuple[EntityTagger, RelationExtractor] | None = None  # the worker's own, loaded once


def _load(readers: Readers) -> None:
    global _readers
    _readers = readers()
    # the models are the worker's for life: kept out of the garbage collector's full passes, which
    # walked their 0.8 million objects for a few tenths of a second per 300 abstracts
    gc.freeze()


def _read(records: list[Record]) -> list[ExtractedRecord]:
    tagger, extractor = _readers  # type: ignore[misc]  (set by `_load`, each worker's initializer)
    return extract_records(records, tagger, extractor)


def _answer(_: int) -> int:
    time.sleep(0.05)  # long enough that one worker cannot answer for all
    return os.getpid()


class ReadingPool:
    """`processes` worker processes, each with the tagger and extractor `readers` loads; safe to
    use from several threads at once (a flow's extraction tasks), as its executor is."""

    def __init__(self, readers: Readers, processes: int):
        self.processes = processes
        self._executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_load, initargs=(readers,))

    def extract(self, records: Sequence[Record]) -> list[ExtractedRecord]:
        """What each record says, in order, read in chunks of CHUNK by the workers."""
        chunks = [list(records[i:i + CHUNK]) for i in range(0, len(records), CHUNK)]
        return [found for part in self._executor.map(_read, chunks) for found in part]

    def warm(self) -> None:
        """Start every worker and load its models now (until each has answered), so that what
        follows is timed without them."""
        answered: set[int] = set()
        while len(answered) < self.processes:
            answered.update(self._executor.map(_answer, range(self.processes)))

    def close(self) -> None:
        self._executor.shutdown()

    def __enter__(self) -> ReadingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
