"""Kill and resume, and several commands at once on one store (issue 18, items 2 and 3).

Every run here is the real `litmine` command in a process of its own: online against the fake
E-utilities server (tests/fake_eutils.py), with the test models, on a small document that cites
three records (one by DOI) and makes a claim that needs a search, all of them using one Prefect
server started for the module.

Kill and resume: a seeded RNG draws kill points over the checkpoints of tests/kill_points.py
(fetch, store, cache, extract, verdict, csv, output, record, recorded: the n-th time a run
reaches one)
and over the moments of a run (SIGKILL from outside after a random delay). A chain of runs on a
fresh data folder is killed at one point after another, each run resuming what the last left,
then runs to the end. After every kill, each output file present is whole (an earlier run's
and identical to an uninterrupted run's); every run that completes, and the chain's last,
writes what an uninterrupted run writes, and the store holds what it holds: no duplicate
record, id mapping or run.

Two runs of the same document on one store at once, an import beside them and a deployment's
run (what a schedule starts; started here by `litmine trigger`) overlapping them all finish,
with no "database is locked", and write what one run alone writes.

What legitimately differs between two runs, left out of every comparison, and nothing else:
- report.html's "Run at" line: the minute the run wrote the report;
- `fetched_at` of each record in records.jsonl.gz: when the record was fetched from PubMed;
- for runs at once only: which of them is the other's previous run depends on which recorded
  first, so changes.csv, when there is one, must say that nothing changed, and report.html's
  "What changed" section is left out.
"""
from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import KIR_PAPER
from fake_eutils import BIOPYTHON, FakeEutils
from kill_points import COUNTS_ENV, KILL_ENV, PHASES
from test_faults import DOCUMENT, SEARCHED  # the fault suite's notes and what its fake PubMed finds
from pipeline.records.store import Store

pytestmark = pytest.mark.skipif(not BIOPYTHON.is_dir(), reason="../shared/entrez is missing")

ROOT = Path(__file__).resolve().parents[1]
KILL_POINTS = Path(__file__).with_name("kill_points.py")
SEED = 18  # issue 18: the same kill points on every run of the suite
KILLS = 20  # at least, of the 24 kill points drawn (a run may finish before a random moment)
EARLY, LATE = PHASES[:5], PHASES[5:]  # work a resumed run may find done; what every run does
IMPORTED = 20_000  # documents the import beside two runs stores (about 5 s alone)
OUTPUTS = ("claims.csv", "evidence.csv", "triples.csv", "references.csv", "citations.csv", "report.html",
           "records.jsonl.gz")
RUN_AT = re.compile(rb'<p class="run-time">Run at [^<]*</p>')
CHANGES_SECTION = re.compile(rb'<section class="card changes">.*?</section>\n?', re.DOTALL)


@dataclass
class Outcome:
    killed: bool
    seconds: float
    stderr: str


@pytest.fixture(scope="module")
def fake():
    server = FakeEutils(any_search=list(SEARCHED)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """One Prefect server for every run of the module (a temporary API per run would cost each
    10-20 s, and a killed run would leave its server behind), started and stopped as users do."""
    from flows.server import free_port, running_server

    data = tmp_path_factory.mktemp("prefect-server")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}, "LITMINE_DATA": str(data)}
    server = [sys.executable, "-m", "flows.cli", "server"]
    subprocess.run([*server, "start", "--port", str(free_port(0))], env=env, cwd=ROOT, check=True, timeout=240,
                   capture_output=True)
    yield running_server(data / "prefect").url
    subprocess.run([*server, "stop"], env=env, cwd=ROOT, check=True, timeout=120, capture_output=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory, kb, trained):
    """A data folder to copy: the KB and a store holding KIR_PAPER (what the search finds first)."""
    data = tmp_path_factory.mktemp("template")
    shutil.copy(kb.path, data / "kb.sqlite")
    with Store(data / "litmine.sqlite") as store:
        store.upsert_records([KIR_PAPER])
    return data


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> Path:
    """The document every run checks, at one path (the run history knows documents by path)."""
    path = tmp_path_factory.mktemp("document") / "notes.txt"
    path.write_text(DOCUMENT)
    return path


@pytest.fixture(scope="module")
def env(fake, prefect_api, trained):
    """The environment of every `litmine` process: no Prefect setting of the test's own."""
    values = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LITMINE_TEST_"))}
    values.update(LITMINE_MODELS=str(trained.models), LITMINE_EUTILS_URL=fake.url, NCBI_EMAIL="tests@example.org",
                  PREFECT_API_URL=prefect_api, PREFECT_LOGGING_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    values.pop("NCBI_API_KEY", None)
    values.pop("LITMINE_OFFLINE", None)
    return values


def fresh_data(template: Path, folder: Path) -> Path:
    shutil.copytree(template, folder)
    return folder


def litmine(env: dict[str, str], data: Path, *args: str, kill: tuple[str, float] | None = None,
            counts: Path | None = None, timeout: float = 300) -> Outcome:
    """`litmine ARGS` on `data`, killed at `kill`: (checkpoint, n), or ("time", seconds after it starts)."""
    extra = {"LITMINE_DATA": str(data)}
    if kill and kill[0] != "time":
        extra[KILL_ENV] = f"{kill[0]}:{kill[1]}"
    if counts:
        extra[COUNTS_ENV] = str(counts)
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, str(KILL_POINTS), *args], env={**env, **extra}, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        if kill and kill[0] == "time":
            try:
                process.wait(timeout=kill[1])
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    killed = process.returncode == -signal.SIGKILL
    assert killed or process.returncode == 0, stderr[-3000:]
    return Outcome(killed, time.monotonic() - began, stderr)


def run_document(env: dict[str, str], data: Path, out: Path, document: Path, **options) -> Outcome:
    return litmine(env, data, "run", "--out", str(out), str(document), **options)


def comparable(name: str, content: bytes) -> bytes:
    """A file's bytes without what differs between two runs (see the module's docstring)."""
    if name == "report.html":
        return RUN_AT.sub(b"", content)
    if name == "records.jsonl.gz":
        lines = [json.loads(line) for line in gzip.decompress(content).decode().splitlines()]
        for line in lines:
            line["record"].pop("fetched_at")
        return json.dumps(lines, sort_keys=True).encode()
    return content


def outputs(out: Path) -> dict[str, bytes]:
    """The outputs in `out` but changes.csv (a run of the chain and the reference have none)."""
    return {p.name: comparable(p.name, p.read_bytes()) for p in sorted(out.iterdir())
            if not p.name.startswith(".") and p.name != "changes.csv"}


def store_contents(path: Path) -> dict[str, object]:
    """What the store holds, in rows that must not repeat: records by content, the sources, id
    mappings and runs (one row each)."""
    db = sqlite3.connect(path)
    try:
        records = db.execute("SELECT uid, pmid, content_hash FROM records ORDER BY uid").fetchall()
        return {
            "records": records,
            "pmids": Counter(pmid for _, pmid, _ in records if pmid).most_common(1)[0][1],  # 1: no PMID twice
            "sources": db.execute("SELECT uid, source FROM record_sources ORDER BY uid, source").fetchall(),
            "id_map": db.execute("SELECT kind, key, pmid FROM id_map ORDER BY kind, key").fetchall(),
            "runs": db.execute("SELECT COUNT(*), COUNT(DISTINCT out_dir) FROM runs").fetchone(),
            "run_claims": db.execute("SELECT claim_key, claim_id, verdict, evidence, unavailable, standing, read "
                                     "FROM run_claims ORDER BY claim_key").fetchall(),
        }
    finally:
        db.close()


@dataclass
class Reference:
    outputs: dict[str, bytes]
    store: dict[str, object]
    counts: dict[str, int]
    seconds: float


@pytest.fixture(scope="module")
def reference(env, template, document, tmp_path_factory) -> Reference:
    """One uninterrupted run on a fresh data folder: what every other run must write, and how
    often it reached each checkpoint."""
    data = fresh_data(template, tmp_path_factory.mktemp("reference") / "data")
    counts = data / "counts.json"
    outcome = run_document(env, data, data / "out", document, counts=counts)
    assert sorted(p.name for p in (data / "out").iterdir()) == sorted(OUTPUTS)
    return Reference(outputs(data / "out"), store_contents(data / "litmine.sqlite"), json.loads(counts.read_text()),
                     outcome.seconds)


def assert_whole_or_absent(out: Path, reference: Reference) -> None:
    """After a kill: every output in place is whole, one an uninterrupted run writes."""
    found = outputs(out) if out.is_dir() else {}
    assert set(found) <= set(OUTPUTS)
    for name, content in found.items():
        assert content == reference.outputs[name], f"{name} is not whole"


def test_a_run_killed_anywhere_resumes_to_the_outputs_of_an_uninterrupted_run(env, template, document, reference,
                                                                             tmp_path, capsys):
    """Each chain begins with a kill a fresh run reaches for sure (a checkpoint of the work a
    resumed run may find done, or a random moment), then kills the runs resuming it at two
    checkpoints of what every run does (export and recording are never cached) and at a random
    moment, then lets one finish. Two chains run at a time, each on a data folder of its own."""
    assert all(reference.counts.get(phase) for phase in PHASES), reference.counts
    rng = random.Random(SEED)
    chains = []
    for number, first in enumerate((*EARLY, "time")):
        points = [(first, round(rng.uniform(0, reference.seconds), 2) if first == "time"
                   else rng.randint(1, reference.counts[first]))]
        later = sorted({LATE[number % len(LATE)], LATE[(number + 1) % len(LATE)]}, key=PHASES.index)
        points += [(phase, rng.randint(1, reference.counts[phase])) for phase in later]
        chains.append((points, rng.random()))  # and a moment of the last resumed run, as a share of its length

    def chain(number: int, points: list[tuple[str, float]], moment: float) -> list[tuple[str, float, bool]]:
        data = fresh_data(template, tmp_path / f"chain-{number}")
        out, outcomes, last = data / "out", [], 0.0
        for point in [*points, None]:
            point = point or ("time", round(moment * last, 2))  # the last run, killed late, ran ~all of it
            outcome = run_document(env, data, out, document, kill=point)
            outcomes.append((*point, outcome.killed))
            last = outcome.seconds
            if outcome.killed:
                assert_whole_or_absent(out, reference)
            else:
                assert outputs(out) == reference.outputs, point
        run_document(env, data, out, document)
        assert outputs(out) == reference.outputs
        assert not (out / "changes.csv").exists()  # a run resumed in its folder compares with none, as the first
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
        assert store_contents(data / "litmine.sqlite") == reference.store
        return outcomes

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [kill for outcomes in pool.map(chain, range(len(chains)), *zip(*chains)) for kill in outcomes]
    killed = Counter(phase for phase, _, was_killed in done if was_killed)
    missed = [(phase, n) for phase, n, was_killed in done if not was_killed]  # the run finished first
    with capsys.disabled():
        print(f"\nkill and resume: {sum(killed.values())} kills ({dict(killed)}); "
              f"{len(missed)} runs finished before their kill point: {missed}")
    assert sum(killed.values()) >= KILLS and set(killed) >= {*PHASES, "time"}


def big_corpus(folder: Path, documents: int) -> Path:
    """A PubTator corpus of `documents` abstracts none of the runs cite or find: an import that
    writes to the store for many seconds without changing what a run reads."""
    path = folder / "bc5cdr" / "CDR_TrainingSet.PubTator.txt"
    path.parent.mkdir(parents=True)
    path.write_text("".join(f"{80000000 + i}|t|Imported title {i}\n{80000000 + i}|a|Imported abstract {i}.\n\n"
                            for i in range(documents)))
    return path


def test_two_runs_an_import_and_a_scheduled_run_at_once_write_what_one_run_alone_writes(env, template, document,
                                                                                      reference, tmp_path, capsys):
    data = fresh_data(template, tmp_path / "data")
    corpus = big_corpus(tmp_path / "import", IMPORTED)
    serving = {**env, "LITMINE_DATA": str(data), "PREFECT_RUNNER_POLL_FREQUENCY": "1"}  # the run starts at once
    litmine_ = [sys.executable, "-m", "flows.cli"]
    with (tmp_path / "deploy.log").open("w") as log:
        deploy = subprocess.Popen([*litmine_, "deploy", str(document), "--cron", "0 3 * * *", "--name", "overlap"],
                                  env=serving, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)
    commands: list[subprocess.Popen] = []
    try:
        deadline = time.monotonic() + 120
        while (trigger := subprocess.run([*litmine_, "trigger", "overlap", "--no-wait"], env=serving, cwd=ROOT,
                                         capture_output=True, text=True)).returncode:  # until it is registered
            assert deploy.poll() is None and time.monotonic() < deadline, (tmp_path / "deploy.log").read_text()
            time.sleep(1)
        flow_run = re.search(r"\(([0-9a-f-]{36})\)", trigger.stderr + trigger.stdout).group(1)
        began = time.time()

        def start(name: str, *args: str) -> None:
            with (tmp_path / f"{name}.log").open("w") as log:
                commands.append(subprocess.Popen([*litmine_, *args], env=serving, cwd=ROOT, stdout=log, stderr=log,
                                                 start_new_session=True))

        start("a", "run", "--out", str(tmp_path / "a"), str(document))
        start("b", "run", "--out", str(tmp_path / "b"), str(document))
        _wait_for_a_fetched_record(data / "litmine.sqlite", timeout=120)
        start("import", "import", "--no-progress", str(corpus))  # while the runs store what they fetch
        imported_from = time.time() - began
        ended = [moment - began for moment in _ended(commands, timeout=300)]  # a, b, the import
        errors = [(tmp_path / f"{name}.log").read_text() for name in ("a", "b", "import")]
        assert [process.returncode for process in commands] == [0, 0, 0], errors
        assert not [e for e in errors if "locked" in e]
        scheduled = _finished(env["PREFECT_API_URL"], flow_run, timeout=180)
    finally:
        for process in [deploy, *commands]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
    assert scheduled["state_type"] == "COMPLETED"
    start, end = _epoch(scheduled["start_time"]) - began, _epoch(scheduled["end_time"]) - began
    with capsys.disabled():
        print(f"\nat once (seconds from the start): runs end at {ended[0]:.1f} and {ended[1]:.1f}, the import runs "
              f"from {imported_from:.1f} to {ended[2]:.1f}, the scheduled run from {start:.1f} to {end:.1f}")
    assert start < min(ended[:2]) and end > imported_from  # the scheduled run overlapped both runs and the import
    assert ended[2] < max(ended[:2])  # and the import, begun as the runs stored what they fetched, ended before one

    with Store(data / "litmine.sqlite") as store:
        folders = {Path(run["out_dir"]) for run in store.recent_runs()}
    assert len(folders) == 3 and {(tmp_path / "a").resolve(), (tmp_path / "b").resolve()} < folders
    alone = {name: CHANGES_SECTION.sub(b"", content) for name, content in reference.outputs.items()}
    for out in folders:  # which one compared with another depends on which recorded first
        assert {n: CHANGES_SECTION.sub(b"", c) for n, c in outputs(out).items()} == alone
        changes = out / "changes.csv"
        assert not changes.exists() or len(changes.read_text().splitlines()) == 1  # nothing changed
    contents = store_contents(data / "litmine.sqlite")
    imported = {f"pmid:{80000000 + i}" for i in range(IMPORTED)}
    assert len(contents["records"]) == len(reference.store["records"]) + len(imported)
    assert [r for r in contents["records"] if r[0] not in imported] == reference.store["records"]
    assert contents["pmids"] == 1 and contents["runs"] == (3, 3)


def _ended(processes: list[subprocess.Popen], timeout: float) -> list[float]:
    """When each process ended (time.time())."""
    deadline, ended = time.time() + timeout, [0.0] * len(processes)
    while not all(ended) and time.time() < deadline:
        for i, process in enumerate(processes):
            if not ended[i] and process.poll() is not None:
                ended[i] = time.time()
        time.sleep(0.2)
    assert all(ended), f"still running after {timeout:.0f} s"
    return ended


def _wait_for_a_fetched_record(store: Path, timeout: float) -> None:
    """Until a run has stored a record it fetched (the store held one, KIR_PAPER)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db = sqlite3.connect(store)
        try:
            if db.execute("SELECT COUNT(*) FROM records").fetchone()[0] > 1:
                return
        finally:
            db.close()
        time.sleep(0.2)
    raise AssertionError(f"no run stored a fetched record in {timeout:.0f} s")


def _finished(api: str, flow_run: str, timeout: float) -> dict:
    """The flow run, once it has finished, as the Prefect API has it."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{api}/flow_runs/{flow_run}", timeout=10) as response:
            run = json.loads(response.read())
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {flow_run} did not finish in {timeout:.0f} s")


def _epoch(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
