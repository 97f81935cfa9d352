"""Fixtures shared by several test modules."""
from __future__ import annotations

import os

import pytest
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
from prefect.testing.utilities import prefect_test_harness

import shutil
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Settings, load_settings
from pipeline.datatypes import Mention, Record
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.kb_build import build_kb
from pipeline.records.store import Store

pytest_plugins = ["fake_eutils", "fake_clock"]  # the fake E-utilities server and retry clock fixtures

# `litmine run` in a test uses a temporary Prefect API, never leaving a background server behind
# (tests/test_server.py starts and stops its own)
os.environ["LITMINE_SERVER_IDLE_MINUTES"] = "0"

# A record the flow tests cite and search for: sertraline inhibits Kir4.1 (KCNJ10).
KIR_PAPER = Record(uid="pmid:99000001", pmid="99000001", source="pubmed", year=2015,
                   title="Sertraline blocks astrocytic Kir4.1 channels.",
                   abstract="Sertraline inhibited Kir4.1 currents in cultured astrocytes.",
                   mesh_terms=["Animals", "Rats", "Cells, Cultured"], publication_types=["Journal Article"])


def shared_document(name: str) -> str:
    """One of ../shared/documents, or a skip when the shared data is not there."""
    path = load_settings().shared / "documents" / name
    if not path.exists():
        pytest.skip(f"no {path}")
    return path.read_text(encoding="utf-8")


def assert_well_formed(text: str, mentions: list[Mention], types: tuple[str, ...], linked: bool = True) -> None:
    """Mentions in order, not overlapping, quoting the text, of known types; with ids and
    names when `linked`, else with a name exactly when there is an id."""
    assert mentions == sorted(mentions, key=lambda m: m.start)
    for previous, mention in zip(mentions, mentions[1:]):
        assert previous.end <= mention.start
    for m in mentions:
        assert text[m.start:m.end] == m.text and m.type in types
        assert (m.id and m.name) if linked else bool(m.id) == bool(m.name)


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
def data_dir(tmp_path: Path, kb: KnowledgeBase, trained: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LITMINE_DATA for one test: the session's KB, the reduced models and a store holding KIR_PAPER."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(kb.path, data / "kb.sqlite")
    monkeypatch.setenv("LITMINE_DATA", str(data))
    monkeypatch.setenv("LITMINE_MODELS", str(trained.models))
    with Store(data / "litmine.sqlite") as store:
        store.upsert_records([KIR_PAPER])
    return data


@pytest.fixture(scope="session")
def trained(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose models folder holds litmine's pipelines, the flow's relation models, verifier and
    link model, the linker and the saved entity pipeline, built by the reduced (CI) recipe from the real
    ../shared corpora (`build_all`, every core). They live in data/processed/test-models and are rebuilt
    only when the recipe, the data or the code changes (minutes on two cores)."""
    from pipeline.records.importers import import_paths
    from pipeline.training.build import build_all

    settings = load_settings()
    corpora = [settings.shared / "corpora" / name for name in ("bc5cdr", "biored", "nlm_gene", "drugprot", "scifact")]
    if not all(path.is_dir() for path in corpora):
        pytest.skip(f"no shared corpora at {settings.shared}")
    data = tmp_path_factory.mktemp("trained")
    settings = settings.with_overrides(data=data, models=PROJECT_ROOT / "data" / "processed" / "test-models")
    with Store(settings.store_path) as store:
        import_paths(corpora, store, progress=False)
    shutil.copy(kb.path, settings.kb_path)
    build_all(settings, kb, reduced=True)
    return settings


@pytest.fixture(scope="session")
def pipeline_tagger(trained: Settings, kb: KnowledgeBase):
    """litmine's entity pipeline (reduced models) as an EntityTagger."""
    from pipeline.entities.ner import PipelineTagger

    return PipelineTagger.load(trained, kb)
