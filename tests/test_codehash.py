"""Cache keys follow the code a result depends on, not the files it sits in."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pipeline import toolkit
from pipeline.codehash import code_hash
from pipeline.config import Settings
from pipeline.documents import sentences
from pipeline.relations.triggers import TriggerExtractor


def module(path: Path, source: str):
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


ONE = '''"""One."""
import re

LIMIT = 3  # a comment


def first(text):
    """Why."""
    return re.sub("a", "b", text)[:LIMIT]
'''
TWO = '''def second(x):
    return x + 1
'''


def test_moves_imports_comments_and_docstrings_leave_the_hash(tmp_path: Path) -> None:
    before = code_hash(module(tmp_path / "one.py", ONE), module(tmp_path / "two.py", TWO))
    moved = '''"""Moved, with other imports and comments."""
from re import sub  # unused here
import re


def second(x):
    return x + 1


def first(text):
    return re.sub("a", "b", text)[:LIMIT]
'''
    after = code_hash(module(tmp_path / "one_b.py", "LIMIT = 3\n"), module(tmp_path / "two_b.py", moved))
    assert after == before


def test_a_code_change_changes_the_hash(tmp_path: Path) -> None:
    before = code_hash(module(tmp_path / "one.py", ONE))
    assert code_hash(module(tmp_path / "one_c.py", ONE.replace("LIMIT = 3", "LIMIT = 4"))) != before
    assert code_hash(module(tmp_path / "one_d.py", ONE), (module(tmp_path / "two_d.py", "A = 1\nB = 2\n"), "A")) \
        != code_hash(module(tmp_path / "one_e.py", ONE), (module(tmp_path / "two_e.py", "A = 5\nB = 2\n"), "A"))


def test_the_extraction_key_follows_sentence_splitting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records are read sentence by sentence: a splitter with new rules (an abbreviation here) must
    not reuse cached extractions."""
    kit = toolkit.Toolkit(Settings(), None, None, None, TriggerExtractor(), "pipeline-x", [Path("drugprot-1")],
                          Path("verifier-1/model.pkl"))
    before = kit.extraction_version
    source = Path(sentences.__file__).read_text()
    monkeypatch.setattr(toolkit, "sentences", module(tmp_path / "same.py", source))
    assert kit.extraction_version == before
    new_rule = source.replace('"al e.g i.e vs cf', '"al e.g i.e vs cf approx')
    assert new_rule != source
    monkeypatch.setattr(toolkit, "sentences", module(tmp_path / "new_rule.py", new_rule))
    assert kit.extraction_version != before
