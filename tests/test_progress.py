"""What `litmine run` shows: a progress display per stage whose counts match the run, bars only on
a terminal, Prefect's log lines only with --verbose, and nothing but errors and paths with --quiet."""
import csv
import fcntl
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import threading
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flows.cli import app
from flows.terminal import Verbosity, set_verbosity, showing_progress

NOTE = """Kir4.1 notes

Sertraline inhibits Kir4.1 channels in astrocytes [1]. Fluoxetine activates Kir4.1 channels [2].

References
1. PMID: 99000001
2. PMID: 99000002
"""
STAGES = ["references resolved", "records fetched", "records read", "claims checked"]
ROOT = Path(__file__).resolve().parents[1]


class Tally:
    """A Progress that remembers what it is told (tasks tell it from their threads)."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.ended: list[str] = []
        self.summary = ""
        self._lock = threading.Lock()

    def begin(self, stage: str, total: int, unit: str) -> None:
        self.totals[stage], self.done[stage] = total, 0

    def advance(self, stage: str, done: int = 1) -> None:
        with self._lock:
            self.done[stage] += done

    def end(self, stage: str, detail: str = "") -> None:
        self.ended.append(stage)

    def finish(self, summary: str) -> None:
        self.summary = summary


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture()
def note(tmp_path, data_dir) -> Path:
    path = tmp_path / "note.txt"
    path.write_text(NOTE)
    return path


def test_the_stages_count_what_the_run_did(harness, note, tmp_path):
    from flows.evidence_check import evidence_check
    from pipeline.outputs.run_records import export_run

    with showing_progress(Tally()) as tally:
        evidence_check([str(note)], out=str(tmp_path / "out"), offline=True)
    assert list(tally.totals) == STAGES and tally.ended == STAGES
    assert tally.done == tally.totals  # each stage counted every unit of its work, no more
    assert tally.totals["references resolved"] == len(rows(tmp_path / "out" / "references.csv")) == 2
    assert tally.totals["claims checked"] == len(rows(tmp_path / "out" / "claims.csv")) == 2
    assert tally.totals["records fetched"] == 2  # per claim
    assert tally.totals["records read"] == export_run(tmp_path / "out", "bioc").written == 1
    assert tally.summary.startswith("2 claims from 1 document, 1 record read; verdicts: ")
    assert tally.summary.endswith(f"tables in {tmp_path / 'out'}")

    with showing_progress(Tally()) as again:  # the caches answer: every stage still ends
        evidence_check([str(note)], out=str(tmp_path / "again"), offline=True)
    assert again.ended == STAGES and again.totals == tally.totals


@pytest.fixture()
def litmine(harness, note, trained):
    """`litmine run --offline` on the note, in its own process as a user runs it, against the
    module's Prefect API (a temporary API per run would cost 10-25 s)."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PYTHONPATH=str(ROOT), PREFECT_API_URL=PREFECT_API_URL.value(), COLUMNS="120")

    def run(*arguments: str, **streams) -> subprocess.CompletedProcess:
        out = tempfile.mkdtemp(prefix="out", dir=note.parent)
        command = [sys.executable, "-m", "flows.cli", "run", "--offline", "--out", out, *arguments, str(note)]
        return subprocess.run(command, env=env, text=True, timeout=600, **({"capture_output": True} | streams))

    return run


def test_quiet_prints_the_paths_and_nothing_else(litmine):
    result = litmine("--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    paths = result.stdout.splitlines()
    assert paths and all(Path(p).is_file() for p in paths)


def test_by_default_a_pipe_gets_a_line_per_stage_and_no_prefect_log(litmine):
    result = litmine()
    assert result.returncode == 0, result.stderr
    assert all(Path(p).is_file() for p in result.stdout.splitlines())  # stdout: the paths alone
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == STAGES
    assert lines[0].startswith("references resolved: 2 references, 1 resolved, 1 unavailable (")
    assert lines[3].startswith("claims checked: 2 claims (")
    assert lines[4].startswith("2 claims from 1 document, 1 record read; verdicts: ") and len(lines) == 5
    assert "\x1b" not in result.stderr and "\r" not in result.stderr and "━" not in result.stderr
    assert "prefect" not in result.stderr.lower() and "INFO" not in result.stderr


def test_an_unreadable_document_is_one_error_line_not_prefects_traceback(litmine, note):
    (note.parent / "scan.txt").write_bytes(b"\x00\x01\x02PDF-ish\x00" * 20)
    result = litmine(str(note.parent / "scan.txt"))
    assert result.returncode == 2 and result.stdout == ""
    summary, error = result.stderr.splitlines()[-2:]  # the run's summary, then one line per unreadable document
    assert summary.startswith("error: 1 of 2 documents could not be read (the others are checked")
    assert error.startswith("error: ") and error.endswith("scan.txt: binary content, not a text document")
    assert "Traceback" not in result.stderr and "prefect" not in result.stderr.lower()


def test_verbose_shows_prefects_log_lines(litmine):
    result = litmine("--verbose")
    assert result.returncode == 0, result.stderr
    assert "prefect.flow_runs INFO" in result.stderr and "Beginning flow run" in result.stderr
    assert "prefect.task_runs INFO check_claims-" in result.stderr  # the task run named, as Prefect does
    assert "claims checked: 2 claims" in result.stderr
    assert "httpx" not in result.stderr  # other libraries' INFO lines stay out
    assert all(Path(p).is_file() for p in result.stdout.splitlines())


def test_a_terminal_gets_progress_bars(litmine):
    """stderr on a pseudo-terminal: rich draws the bars (with cursor controls), stdout stays plain."""
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    drawn = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other end closed
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        result = litmine("--fresh", capture_output=False, stdout=subprocess.PIPE, stderr=terminal)
    finally:
        os.close(terminal)
        reader.join(timeout=30)
        os.close(master)
    shown = drawn.decode("utf-8", errors="replace")
    assert result.returncode == 0, shown
    assert "\x1b[" in shown and "━" in shown  # a bar, drawn and redrawn
    assert all(stage in shown for stage in STAGES) and "2/2" in shown
    assert "2 claims from 1 document" in shown and "prefect" not in shown.lower()
    assert all(Path(p).is_file() for p in result.stdout.splitlines())


def test_quiet_and_verbose_together_is_an_error():
    result = CliRunner().invoke(app, ["run", "--quiet", "--verbose", "note.txt"])
    assert result.exit_code == 2 and "--quiet and --verbose: choose one" in result.output


def test_quiet_silences_notes_but_not_errors(capsys):
    from flows.commands import fail, note

    set_verbosity(Verbosity.QUIET)
    try:
        note("started a background Prefect server")
        with pytest.raises(typer.Exit):
            fail("broken.txt: no such document")
    finally:
        set_verbosity(Verbosity.DEFAULT)
    assert capsys.readouterr().err == "error: broken.txt: no such document\n"
