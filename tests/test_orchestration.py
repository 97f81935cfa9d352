"""Orchestration: content-keyed caches, run-to-run changes, the Dask runner, and a real
Prefect server firing a cron schedule."""
import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from pipeline.datatypes import Record
from pipeline.records.store import Store
from pipeline.relations.model import ModelExtractor
from pipeline.relations.triggers import TriggerExtractor

NOTE = """Channel notes

Sertraline inhibits Kir4.1 channels in astrocytes.

Fluvoxamine inhibits Kv1.5 channels.
"""
KV_PAPER = Record(uid="pmid:99000002", pmid="99000002", source="pubmed", year=2019,
                  title="Fluvoxamine and cardiac potassium channels.",
                  abstract="Fluvoxamine inhibited Kv1.5 currents in HEK293 cells.",
                  publication_types=["Journal Article"])
OUTPUTS = ("claims.csv", "evidence.csv", "triples.csv", "references.csv", "citations.csv")


@pytest.fixture()
def workspace(tmp_path, data_dir):
    """The test's data folder and a note with two uncited claims; the store backs only the first."""
    data = data_dir
    note = tmp_path / "channels.txt"
    note.write_text(NOTE)
    return data, note


def task_states(flow_state) -> dict[str, list[str]]:
    """Task name -> the state names of its runs in one flow run."""
    flow_run_id = flow_state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    states: dict[str, list[str]] = {}
    for run in runs:
        states.setdefault(run.name.rsplit("-", 1)[0], []).append(run.state.name)
    return states


def run_check(note: Path, out: Path, **options):
    from flows.evidence_check import evidence_check

    return evidence_check([str(note)], out=str(out), offline=True, return_state=True, **options)


def test_second_run_hits_the_cache_and_a_new_model_version_recomputes(harness, workspace, monkeypatch):
    data, note = workspace
    first = task_states(run_check(note, data / "one"))
    assert set(first["extract"]) == {"Completed"} and first["check_claims"] == ["Completed"]

    second = task_states(run_check(note, data / "two"))
    assert set(second["extract"]) == {"Cached"} and len(second["extract"]) == len(first["extract"])
    assert second["check_claims"] == ["Cached"] and second["fetch_records"] == ["Cached"]
    for name in OUTPUTS:
        assert (data / "one" / name).read_bytes() == (data / "two" / name).read_bytes()

    monkeypatch.setattr(TriggerExtractor, "version", "test-bump")  # the claims' relation reader
    third = task_states(run_check(note, data / "three"))
    assert third["find_claims"] == ["Completed"] and third["check_claims"] == ["Completed"]
    assert set(third["extract"]) == {"Cached"}  # the records' reading did not change

    monkeypatch.setattr(ModelExtractor, "name", "test-bump")  # the evidence's relation models
    fourth = task_states(run_check(note, data / "four"))
    assert set(fourth["extract"]) == {"Completed"} and fourth["check_claims"] == ["Completed"]
    assert fourth["find_claims"] == ["Cached"]

    fresh = task_states(run_check(note, data / "five", fresh=True))
    assert set(fresh["extract"]) == {"Completed"}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_changes_list_exactly_the_claims_whose_evidence_changed(harness, workspace):
    data, note = workspace
    run_check(note, data / "before")
    assert not (data / "before" / "changes.csv").exists()  # nothing to compare with yet
    before = {r["subject"]: r for r in read_rows(data / "before" / "claims.csv")}
    # the search read the store's one record, about sertraline: nothing on fluvoxamine
    assert before["Fluvoxamine"]["verdict"] == "no_evidence"

    with Store(data / "litmine.sqlite") as store:
        store.upsert_records([KV_PAPER])
    run_check(note, data / "after")
    after = {r["subject"]: r for r in read_rows(data / "after" / "claims.csv")}
    assert after["Fluvoxamine"]["verdict"] == "supported"
    changes = read_rows(data / "after" / "changes.csv")
    assert {c["claim_id"] for c in changes} == {after["Fluvoxamine"]["claim_id"]}
    assert {(c["change"], c["detail"]) for c in changes} == {("verdict_changed", ""), ("new_evidence", "99000002")}


def test_dask_runner_writes_byte_identical_tables(harness, workspace):
    from flows.evidence_check import with_runner

    data, note = workspace
    run_check(note, data / "threads")
    with_runner("dask", workers=2)([str(note)], out=str(data / "dask"), offline=True, fresh=True)
    for name in OUTPUTS:
        assert (data / "threads" / name).read_bytes() == (data / "dask" / name).read_bytes(), name


def test_worker_processes_write_byte_identical_tables(harness, workspace, monkeypatch):
    import flows.evidence_check
    from pipeline.config import load_settings
    from pipeline.toolkit import open_toolkit

    data, note = workspace
    run_check(note, data / "one")
    monkeypatch.setattr(flows.evidence_check, "POOL_MIN_RECORDS", 1)  # this run's records read by two workers
    run_check(note, data / "pooled", fresh=True)
    kit = open_toolkit(load_settings().with_overrides(offline=True))  # the flow's toolkit, which holds the workers
    assert kit._pool is not None and kit._pool.processes == 2
    kit._pool.close()
    for name in OUTPUTS:
        assert (data / "one" / name).read_bytes() == (data / "pooled" / name).read_bytes(), name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes_using(path: Path) -> list[int]:
    """Live processes whose environment names this test's data folder."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if str(path).encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_served_deployment_runs_only_with_its_own_parameters(harness, workspace, tmp_path, monkeypatch):
    """Whoever reaches the Prefect API can start a deployment's run with parameters of their own:
    in the serving process (PINNED_ENV), one that changes them fails before reading anything."""
    from flows.evidence_check import PINNED_ENV, evidence_check

    data, note = workspace
    secret = tmp_path / "private.txt"
    secret.write_text("Paroxetine inhibits GIRK channels.\n")
    monkeypatch.setenv(PINNED_ENV, json.dumps({"documents": [str(note)], "out": None, "offline": True, "top_k": None,
                                               "bibliography": None}))
    with pytest.raises(ValueError, match=r"checks only the documents it was deployed with; refused a run that "
                                         r"changes documents, out$"):
        evidence_check([str(secret)], out=str(tmp_path / "elsewhere"), offline=True)
    with pytest.raises(ValueError, match=r"refused a run that changes offline, top_k$"):
        evidence_check([str(note)], offline=False, top_k=100_000)
    assert not (tmp_path / "elsewhere").exists() and not (data / "runs").exists()


@pytest.mark.slow
def test_real_server_fires_a_cron_schedule_and_a_trigger(tmp_path, data_dir):
    data = data_dir
    note = tmp_path / "channels.txt"
    note.write_text(NOTE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(LITMINE_DATA=str(data), PREFECT_LOGGING_LEVEL="WARNING")
    litmine = [sys.executable, "-m", "flows.cli"]

    def status() -> list[dict]:
        result = subprocess.run([*litmine, "status", "--json"], env=env, capture_output=True, text=True, check=True)
        return json.loads(result.stdout)

    port = _free_port()
    subprocess.run([*litmine, "server", "start", "--port", str(port)], env=env, check=True, timeout=240)
    deploy = None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ui-settings", timeout=10) as response:
            assert json.load(response)["api_url"] == f"http://127.0.0.1:{port}/api"  # not Prefect's default 4200
        deploy = subprocess.Popen([*litmine, "deploy", str(note), "--cron", "* * * * *", "--name", "ci",
                                   "--offline"], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        scheduled = _wait_for(status, 150, "the scheduled run")
        assert scheduled[0]["summary"] and Path(scheduled[0]["out_dir"], "claims.csv").is_file()

        subprocess.run([*litmine, "trigger", "ci"], env=env, check=True, timeout=180)
        unknown = subprocess.run([*litmine, "trigger", "nosuch"], env=env, capture_output=True, text=True, timeout=180)
        assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
        assert unknown.stderr.strip().splitlines()[-1].startswith("error: no deployment named 'nosuch'")
        runs = status()
        assert len(runs) >= 2
        elsewhere = tmp_path / "elsewhere"  # a run asked through the API to write somewhere else
        attack = ("from prefect.deployments import run_deployment; import sys; "
                  "run = run_deployment('evidence-check/ci', parameters={'documents': [sys.argv[1]], "
                  "'out': sys.argv[2]}, timeout=150); print(run.state.name)")
        asked = subprocess.run([sys.executable, "-c", attack, str(note), str(elsewhere)],
                               env={**env, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}, capture_output=True,
                               text=True, timeout=180)
        assert asked.stdout.strip() == "Failed" and not elsewhere.exists()
        assert Path(runs[0]["out_dir"], "changes.csv").is_file()  # compared with the scheduled run
    finally:
        if deploy:
            os.killpg(deploy.pid, 15)
            deploy.wait(timeout=60)
        subprocess.run([*litmine, "server", "stop"], env=env, check=True, timeout=120)
    _wait_for(lambda: not _processes_using(data), 30, "litmine and Prefect processes to exit")
