"""Parsing the next file in a worker process while the importer stores the one before.

Parsing a corpus file is pure Python work, and so is storing one: in one process the import
takes the sum of both. One spawned worker parses file i + 1 while the caller stores file i, so on
two cores it takes about the longer of the two (the first file is parsed in the caller while
the worker starts). Results come back in the files' order, so the
store sees exactly what it would from one process: the same merges, in the same order.

At most one file is parsed ahead of the one being stored (two parsed files in memory at once,
and the one being parsed). The worker is spawned, not forked: a forked worker would share the
parent's open SQLite connection. It starts in about half a second (a new interpreter that
imports the parsers), a core's time taken from the caller on a busy machine, so it is only
worth it for imports with much to parse (`AHEAD_MIN_BYTES`).
A parser's ImportFailure comes back as that file's outcome; a worker that dies (killed for its
memory) costs the file it was parsing, named as an ImportFailure, and the rest is parsed here.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TypeVar

from pipeline.records.corpus_files import ImportFailure

# Files to parse, in bytes, below which one process imports faster than two: the worker's start
# (about 0.5 s) is what parsing this much costs (BC5CDR's PubTator and BioC files parse at a few
# MB a second).
AHEAD_MIN_BYTES = 4 * 2**20

Job = TypeVar("Job", bound=tuple)
Parsed = TypeVar("Parsed")


def parsed_in_order(parse: Callable[[Job], Parsed], jobs: Sequence[Job], path_of: Callable[[Job], Path],
                    worker: bool) -> Iterator[Parsed | ImportFailure]:
    """Each job's parse (or the ImportFailure it raised), in order; with `worker`, each next job is
    parsed in a spawned process while the caller handles the one before. `parse` must be a
    module-level function (it is pickled by name)."""
    if not worker or len(jobs) < 2:
        yield from (_outcome(parse, job) for job in jobs)
        return
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        ahead: Future = executor.submit(_outcome, parse, jobs[1])  # while the worker starts, the first is parsed here
        yield _outcome(parse, jobs[0])
        for index in range(1, len(jobs)):
            try:
                outcome = ahead.result()
            except BrokenProcessPool as exc:  # the worker died: this file is lost, the rest is parsed here
                yield ImportFailure(f"{path_of(jobs[index])}:1: the process parsing it stopped ({exc})")
                yield from (_outcome(parse, rest) for rest in jobs[index + 1:])
                return
            if index + 1 < len(jobs):
                ahead = executor.submit(_outcome, parse, jobs[index + 1])
            yield outcome
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _outcome(parse: Callable[[Job], Parsed], job: Job) -> Parsed | ImportFailure:
    try:
        return parse(job)
    except ImportFailure as exc:
        return exc
