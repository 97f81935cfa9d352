"""`litmine` that SIGKILLs itself at a chosen point of a run, for tests/test_resume.py.

    LITMINE_TEST_KILL=extract:2 python tests/kill_points.py run DOC --out DIR

runs the real command line (`flows.cli`) with checkpoints hooked into the functions a run goes
through, and kills the process with SIGKILL (no handler, no cleanup, every thread at once) when
the kill point's checkpoint is reached for the n-th time. LITMINE_TEST_COUNTS=FILE writes, at
exit, how often each checkpoint was reached: the uninterrupted run the kill points are drawn
from. The checkpoints, in the order a run meets them (PHASES):

- fetch: an E-utilities reply read and parsed, not stored yet;
- store: a write statement on the store (fetched records, id mappings), inside its transaction;
- cache: a Prefect result being written: half of it is on disk when the process dies;
- extract: a batch of records about to be read by the entity and relation models;
- verdict: a claim about to be verified;
- csv: a CSV cell about to be written, its table half written;
- output: an output file written in full beside its destination, not moved into place yet;
- record: a statement of the transaction that records the run in the store's history;
- recorded: the run recorded, the command not finished yet.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import signal
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

PHASES = ("fetch", "store", "cache", "extract", "verdict", "csv", "output", "record", "recorded")
KILL_ENV, COUNTS_ENV = "LITMINE_TEST_KILL", "LITMINE_TEST_COUNTS"
WRITE = re.compile(r"\s*(BEGIN|INSERT|UPDATE|DELETE|REPLACE|COMMIT)\b", re.IGNORECASE)

counts: Counter[str] = Counter()
_lock = threading.Lock()
_recording = threading.local()  # set while Store.add_run runs in this thread


def _kill_point() -> tuple[str, int] | None:
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return None
    phase, n = spec.split(":")
    return phase, int(n)


KILL_AT = _kill_point()


def due(phase: str) -> bool:
    """Count one arrival at `phase`'s checkpoint; whether it is the kill point."""
    with _lock:
        counts[phase] += 1
        return (phase, counts[phase]) == KILL_AT


def kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def checkpoint(phase: str) -> None:
    if due(phase):
        kill()


def _before(phase: str, function):
    def hooked(*args, **kwargs):
        checkpoint(phase)
        return function(*args, **kwargs)
    return hooked


def install() -> None:
    """Hook every checkpoint, before `flows` imports the functions it calls by name."""
    from flows.prefect_settings import apply_prefect_defaults
    from pipeline.config import load_settings

    apply_prefect_defaults(load_settings())  # as the CLI does, before Prefect is imported
    import prefect.filesystems

    import pipeline.outputs.files as files
    import pipeline.verdicts.evidence as evidence
    import pipeline.verdicts.verifier as verifier
    from pipeline.records.entrez import EntrezClient
    from pipeline.records.store import Store

    request = EntrezClient._request

    def fetched(self, *args, **kwargs):
        reply = request(self, *args, **kwargs)
        checkpoint("fetch")
        return reply

    EntrezClient._request = fetched

    def trace(sql: str) -> None:
        if WRITE.match(sql):
            checkpoint("record" if getattr(_recording, "on", False) else "store")

    opened, add_run = Store.__init__, Store.add_run

    def traced(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        self._db.set_trace_callback(trace)

    def recording(self, *args, **kwargs):
        _recording.on = True
        try:
            add_run(self, *args, **kwargs)
        finally:
            _recording.on = False
        checkpoint("recorded")

    Store.__init__, Store.add_run = traced, recording

    write_path = prefect.filesystems.LocalFileSystem.write_path

    def torn(self, path, content, **kwargs):
        if due("cache"):
            write_path(self, path, content[:len(content) // 2], **kwargs)
            kill()
        return write_path(self, path, content, **kwargs)

    prefect.filesystems.LocalFileSystem.write_path = torn
    evidence.extract_records = _before("extract", evidence.extract_records)
    verifier.verify_claim = _before("verdict", verifier.verify_claim)
    files.safe_cell = _before("csv", files.safe_cell)
    replacing = files.replacing

    @contextmanager
    def moved_last(path: Path, mode: str = "w"):
        with replacing(path, mode) as handle:
            yield handle
            if due("output"):
                handle.flush()
                kill()

    files.replacing = moved_last


def _write_counts() -> None:
    Path(os.environ[COUNTS_ENV]).write_text(json.dumps(dict(counts)))


if __name__ == "__main__":
    install()
    if os.environ.get(COUNTS_ENV):
        atexit.register(_write_counts)
    from flows.cli import app

    app(prog_name="litmine")
