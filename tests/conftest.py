"""Fixtures shared by several test modules."""
from __future__ import annotations

import pytest
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
from prefect.testing.utilities import prefect_test_harness

import shutil
from pathlib import Path

from pipeline.config import load_settings
from pipeline.datatypes import Record
from pipeline.kb import KnowledgeBase, build_kb
from pipeline.store import Store

pytest_plugins = ["fake_eutils"]  # the fake E-utilities server fixture

# A record the flow tests cite and search for: sertraline inhibits Kir4.1 (KCNJ10).
KIR_PAPER = Record(uid="pmid:99000001", pmid="99000001", source="pubmed", year=2015,
                   title="Sertraline blocks astrocytic Kir4.1 channels.",
                   abstract="Sertraline inhibited Kir4.1 currents in cultured astrocytes.",
                   mesh_terms=["Animals", "Rats", "Cells, Cultured"], publication_types=["Journal Article"])


@pytest.fixture(scope="session")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """litmine's knowledge base, built once per session from the real ../shared vocabularies
    (about 10 s on two cores) into a temporary folder."""
    shared = load_settings().shared
    if not (shared / "vocab").is_dir():
        pytest.skip(f"no shared vocabularies at {shared}")
    return KnowledgeBase.open(build_kb(shared, tmp_path_factory.mktemp("kb") / "kb.sqlite", progress=False))


@pytest.fixture(autouse=True)
def isolated_result_cache(tmp_path: pytest.TempPathFactory):
    """Each test gets its own Prefect result cache: no test sees another's cached tasks."""
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: tmp_path / "prefect-cache"}):
        yield


@pytest.fixture(scope="module")
def harness():
    """A temporary Prefect API for the flow tests of one module."""
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture()
def data_dir(tmp_path: Path, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LITMINE_DATA for one test: the session's KB and a store holding KIR_PAPER."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(kb.path, data / "kb.sqlite")
    monkeypatch.setenv("LITMINE_DATA", str(data))
    with Store(data / "litmine.sqlite") as store:
        store.upsert_records([KIR_PAPER])
    return data
