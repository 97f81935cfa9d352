"""Parsing the next files in a worker process while the importer stores the one before.

Parsing a corpus file is pure Python work, and so is storing one: in one process the import
takes the sum of both. One spawned worker parses the files in order (the first in the caller,
while the worker starts) while the caller stores the ones before, so with a core to spare the
import takes about the longer of the two. Results come back in the files' order, so the store
sees exactly what it would from one process: the same merges, in the same order.

Each parsed file is pickled into a spool file and only its name goes through the pipe, up to
AHEAD files ahead of the caller (what bounds memory), so a file slow to parse and one slow to
store even out. A file's whole pickle through the pipe kept the worker one file ahead (it
waits in its write until the caller reads), and the caller waited twice as long for it; a
process pool hands each file over through two threads of the caller's that wait for the GIL
the storing thread holds (NLM-Gene is 550 small files). The worker is spawned, not forked: a forked worker would share
the caller's open SQLite connection. It starts in a few tenths of a second (a new interpreter
that imports the parsers), so it is only worth it for imports with much to parse
(`AHEAD_MIN_BYTES`). A parser's ImportFailure comes back as that file's outcome; a worker that
dies (killed for its memory) costs the file it was parsing, named as an ImportFailure, and the
rest is parsed in the caller.
"""
from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from pipeline.records.corpus_files import ImportFailure

# Files to parse, in bytes, below which one process imports faster than two: the worker's start
# (a few tenths of a second) is what parsing this much costs (the corpora parse at 10 to 80 MB a second).
AHEAD_MIN_BYTES = 4 * 2**20
AHEAD = 4  # files parsed and not yet read by the caller, at most
_STOP_AFTER = 1.0  # seconds a worker has to end once its caller stopped reading (it holds nothing to keep)

Job = TypeVar("Job", bound=tuple)
Parsed = TypeVar("Parsed")


def parsed_in_order(parse: Callable[[Job], Parsed], jobs: Sequence[Job], path_of: Callable[[Job], Path],
                    worker: bool) -> Iterator[Parsed | ImportFailure]:
    """Each job's parse (or the ImportFailure it raised), in order; with `worker`, parsed in a
    spawned process ahead of the caller. `parse` must be a module-level function (it is pickled
    by name); an exception other than ImportFailure is raised here, as it would be without one."""
    if not worker or len(jobs) < 2:
        yield from (_outcome(parse, job) for job in jobs)
        return
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="litmine-import-") as spool:  # only this user's: pickles are loaded
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, parse, list(jobs[1:]), spool), daemon=True)
        process.start()
        theirs.close()
        try:
            yield _outcome(parse, jobs[0])  # while the worker starts
            for index, job in enumerate(jobs[1:], 1):
                try:
                    spooled = Path(ours.recv())
                except (EOFError, OSError):  # the worker died: this file is lost, the rest is parsed here
                    yield ImportFailure(f"{path_of(job)}:1: the process parsing it stopped "
                                        f"(exit code {_ended(process)})")
                    yield from (_outcome(parse, rest) for rest in jobs[index + 1:])
                    return
                with spooled.open("rb") as handle:
                    failed, outcome = pickle.load(handle)
                spooled.unlink()
                with contextlib.suppress(OSError):  # a worker that sent its last file has ended
                    ours.send(None)  # it may parse one more ahead
                if failed:
                    raise outcome
                yield outcome
        finally:
            ours.close()  # a worker waiting to go on gets an end of file and ends; one still parsing is killed
            process.join(_STOP_AFTER)
            if process.is_alive():
                process.kill()
                process.join()


def core_to_spare() -> bool:
    """Whether a core has been idle: the last minute's load average at least one below the usable
    cores. On a machine whose cores are all busy a worker gains nothing (Linux, grouping a
    session's processes, shares a busy machine between sessions, not processes) and costs the
    pickling both ways: an import of the corpora took 11 s with one, 8.5 s without, at load 4.7."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        return cores - os.getloadavg()[0] >= 1
    except (AttributeError, OSError):  # no load average here (Windows)
        return True


def _serve(conn: Connection, parse: Callable[[Any], Any], jobs: list[Any], spool: str) -> None:
    """The worker: each job's outcome, (False, outcome) or (True, the exception), pickled into a
    file of `spool` whose name it sends, at most AHEAD files before the caller has read them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle; it closes the pipe
    gc.disable()  # parsing makes no cycles, and the worker ends with the import (importers.uncollected)
    ahead = 0
    try:
        for number, job in enumerate(jobs):
            while ahead >= AHEAD:
                conn.recv()  # one read
                ahead -= 1
            try:
                message = (False, _outcome(parse, job))
            except Exception as exc:  # noqa: BLE001  (raised again in the caller)
                message = (True, exc)
            path = Path(spool) / f"{number}.pickle"
            with path.open("wb") as handle:
                pickle.dump(message, handle, protocol=pickle.HIGHEST_PROTOCOL)
            conn.send(str(path))
            ahead += 1
            if message[0]:
                return
    except (EOFError, BrokenPipeError, ConnectionResetError):  # the caller stopped
        return
    finally:
        conn.close()


def _outcome(parse: Callable[[Job], Parsed], job: Job) -> Parsed | ImportFailure:
    try:
        return parse(job)
    except ImportFailure as exc:
        return exc


def _ended(process: multiprocessing.process.BaseProcess) -> int | None:
    process.join(_STOP_AFTER)
    return process.exitcode
