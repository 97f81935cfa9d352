"""Cache keys follow the code a result depends on, not the files it sits in."""
from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

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


def claims_modules_read(name: str, seen: set[str]) -> set[str]:
    """`name` and the modules of pipeline.claims it imports, and they import."""
    seen.add(name)
    for node in ast.walk(ast.parse(inspect.getsource(importlib.import_module(name)))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for module in [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]:
                if module.startswith("pipeline.claims.") and module in sys.modules and module not in seen:
                    claims_modules_read(module, seen)
    return seen


def test_the_claims_key_covers_every_claims_module_that_claims_are_read_by() -> None:
    """A claim rule moved into a new module of pipeline.claims must not fall out of the claims key."""
    covered = {part.__name__ for part in toolkit.CLAIMS_CODE if isinstance(part, ModuleType)}
    assert claims_modules_read("pipeline.claims.extract", set()) <= covered
    verdicts = {part.__name__ for part in toolkit.VERDICT_CODE if isinstance(part, ModuleType)}
    assert claims_modules_read("pipeline.verdicts.reconcile", set()) - {"pipeline.verdicts.reconcile"} <= verdicts
