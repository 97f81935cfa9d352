"""Fixtures shared by several test modules."""
from __future__ import annotations

import pytest
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

from pipeline.config import load_settings
from pipeline.kb import KnowledgeBase, build_kb


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
