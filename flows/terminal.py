"""What a command shows, and how much: `--quiet` (errors, and the command's output), the default
(warnings; for `litmine run` a progress display per stage and a one-line summary) or `--verbose`
(log lines, Prefect's included).

Everything here goes to stderr, so that stdout carries only what a command outputs (paths,
JSON, tables). Log lines, litmine's and Prefect's, go through one handler on the root logger:
installed before Prefect is imported, it takes the place of Prefect's console handler, whose
loggers propagate to it, so that its level decides which of Prefect's lines are shown. The
level of Prefect's own loggers is left alone: a server's UI keeps the INFO lines of every run.
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from enum import Enum

from pipeline.progress import Progress, Silent


class Verbosity(Enum):
    QUIET = logging.ERROR
    DEFAULT = logging.WARNING
    VERBOSE = logging.INFO


LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(run)s%(message)s"

_verbosity = Verbosity.DEFAULT
_progress: Progress = Silent()


class _Stderr:
    """sys.stderr as it is at each write: while a progress display is live, rich puts log lines above it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _LogFormat(logging.Formatter):
    """A log line; one from a Prefect flow or task run names the run, as Prefect's own console does."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        run = getattr(record, "task_run_name", None) or getattr(record, "flow_run_name", None)
        return super().formatMessage(logging.makeLogRecord({**record.__dict__, "run": f"{run} - " if run else ""}))


class _RunLinesWhenVerbose(logging.Filter):
    """Prefect's flow and task run lines, whatever their level, only with --verbose: a run that
    fails reaches the user as the command's own error (one line for a document it cannot read),
    not also as Prefect's traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _verbosity is Verbosity.VERBOSE or not record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))


_handler = logging.StreamHandler(_Stderr())
_handler.setFormatter(_LogFormat(LOG_FORMAT))
_handler.addFilter(_RunLinesWhenVerbose())


def set_verbosity(verbosity: Verbosity) -> None:
    """Show log lines from the verbosity's level up: errors; warnings; INFO lines too, litmine's and
    Prefect's (other libraries' stay at warnings: httpx would log every API request). Where logging
    was set up by someone else (a test runner, a program calling the CLI), it is theirs."""
    global _verbosity
    _verbosity = verbosity
    root = logging.getLogger()
    if root.handlers and _handler not in root.handlers:
        return
    root.addHandler(_handler)
    root.setLevel(logging.WARNING)
    _handler.setLevel(verbosity.value)
    logging.getLogger("litmine").setLevel(verbosity.value)  # Prefect's loggers are at INFO already


def verbosity() -> Verbosity:
    return _verbosity


def progress() -> Progress:
    """Whom the running flow tells of its progress: the display `showing_progress` set up in this
    process, else no one (a Dask worker, a served deployment, a test that did not ask)."""
    return _progress


@contextmanager
def showing_progress(watcher: Progress | None = None) -> Iterator[Progress]:
    """While the block runs, the flow's progress goes to `watcher`, else to the display the
    verbosity asks for: nothing when quiet, bars on a terminal, otherwise a line per stage."""
    global _progress
    if watcher is None:
        watcher = Silent() if _verbosity is Verbosity.QUIET else _Bars() if sys.stderr.isatty() else _Lines()
    before, _progress = _progress, watcher
    try:
        with watcher if isinstance(watcher, _Bars) else nullcontext():
            yield watcher
    finally:
        _progress = before


def counted(n: int, unit: str) -> str:
    """"1 claim", "2 claims": `unit` is the plural."""
    return f"{n} {unit[:-1] if n == 1 else unit}"


class _Bars:
    """One rich progress bar per stage, with counts and the time left, on a terminal's stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress
        from rich.table import Column

        whole = Column(no_wrap=True)  # on a narrow terminal the bar and the detail give way, not the figures
        self._bars = RichProgress(TextColumn("{task.description:<20}", table_column=whole), BarColumn(),
                                  MofNCompleteColumn(table_column=whole), TextColumn("{task.fields[unit]}"),
                                  TimeRemainingColumn(elapsed_when_finished=True, table_column=whole),
                                  TextColumn("{task.fields[detail]}"), console=Console(stderr=True))
        self._stages: dict[str, int] = {}
        self._summary = ""

    def __enter__(self) -> _Bars:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()
        if self._summary:
            self._bars.console.print(self._summary, highlight=False, markup=False, soft_wrap=True)

    def begin(self, stage: str, total: int, unit: str) -> None:
        self._stages[stage] = self._bars.add_task(stage, total=total, unit=unit, detail="")

    def advance(self, stage: str, done: int = 1) -> None:
        self._bars.advance(self._stages[stage], done)

    def end(self, stage: str, detail: str = "") -> None:
        task = self._stages[stage]
        self._bars.update(task, completed=self._bars.tasks[task].total, detail=detail)
        self._bars.stop_task(task)

    def finish(self, summary: str) -> None:
        if _verbosity is Verbosity.DEFAULT:  # below the bars, once they stop; --verbose has it as a log line
            self._summary = summary


class _Lines:
    """One plain line per stage as it ends, for a log file or a pipe: no bars, no control characters."""

    def __init__(self) -> None:
        self._stages: dict[str, tuple[int, str, float]] = {}

    def begin(self, stage: str, total: int, unit: str) -> None:
        self._stages[stage] = (total, unit, time.monotonic())

    def advance(self, stage: str, done: int = 1) -> None:
        pass  # the stage's line, at its end, says how many

    def end(self, stage: str, detail: str = "") -> None:
        total, unit, started = self._stages[stage]
        extra = f", {detail}" if detail else ""
        _say(f"{stage}: {counted(total, unit)}{extra} ({time.monotonic() - started:.1f} s)")

    def finish(self, summary: str) -> None:
        if _verbosity is Verbosity.DEFAULT:  # --verbose has it as the flow's log line
            _say(summary)


def _say(line: str) -> None:
    """A line on stderr, not print(): in a flow run Prefect turns prints into log lines (`log_prints`)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
