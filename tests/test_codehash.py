"""Cache keys follow the code a result depends on, not the files it sits in."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import toolkit
from pipeline.codehash import code_hash, import_closure
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


def test_imports_moved_into_functions_or_for_type_checkers_only_leave_the_hash(tmp_path: Path) -> None:
    """A heavy import made lazy (so that a cached run never pays for it) is no code change."""
    lazy = '''from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from re import Pattern

LIMIT = 3


def first(text):
    import re

    return re.sub("a", "b", text)[:LIMIT]
'''
    assert code_hash(module(tmp_path / "lazy.py", lazy)) == code_hash(module(tmp_path / "eager.py", ONE))


def test_a_code_change_changes_the_hash(tmp_path: Path) -> None:
    before = code_hash(module(tmp_path / "one.py", ONE))
    assert code_hash(module(tmp_path / "one_c.py", ONE.replace("LIMIT = 3", "LIMIT = 4"))) != before
    assert code_hash(module(tmp_path / "one_d.py", ONE), (module(tmp_path / "two_d.py", "A = 1\nB = 2\n"), "A")) \
        != code_hash(module(tmp_path / "one_e.py", ONE), (module(tmp_path / "two_e.py", "A = 5\nB = 2\n"), "A"))


def _toolkit() -> toolkit.Toolkit:
    return toolkit.Toolkit(Settings(), None, None, None, TriggerExtractor(), "pipeline-x", [Path("drugprot-1")],
                           Path("verifier-1/model.pkl"), Path("links-1/model.pkl"))


def test_the_extraction_key_follows_sentence_splitting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records are read sentence by sentence: a splitter with new rules (an abbreviation here) must
    not reuse cached extractions, though no key lists the splitter: the extraction code imports it."""
    kit = _toolkit()
    before = kit.extraction_version, kit.claims_version
    source = Path(sentences.__file__).read_text()
    monkeypatch.setitem(sys.modules, sentences.__name__, module(tmp_path / "same.py", source))
    assert (kit.extraction_version, kit.claims_version) == before
    new_rule = source.replace('"al e.g i.e vs cf', '"al e.g i.e vs cf approx')
    assert new_rule != source
    monkeypatch.setitem(sys.modules, sentences.__name__, module(tmp_path / "new_rule.py", new_rule))
    assert kit.extraction_version != before[0]
    assert kit.claims_version != before[1]


def test_a_new_module_is_in_the_keys_of_the_code_that_imports_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule moved into a new module, imported at the top or inside a function, is found."""
    package = tmp_path / "fakepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "stage.py").write_text("import fakepkg.rules\n\n\ndef run(x):\n    from fakepkg import late\n"
                                      "    return late.f(fakepkg.rules.g(x))\n")
    (package / "rules.py").write_text("def g(x):\n    return x\n")
    (package / "late.py").write_text("from fakepkg.deeper import h\n\n\ndef f(x):\n    return h(x)\n")
    (package / "deeper.py").write_text("def h(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    stage = importlib.import_module("fakepkg.stage")
    found = [m.__name__ for m in import_closure(stage.run, package="fakepkg")]
    assert found == ["fakepkg", "fakepkg.deeper", "fakepkg.late", "fakepkg.rules", "fakepkg.stage"]


def test_each_key_holds_what_its_step_reads() -> None:
    """The claim rules are in the claims and verdict keys, the presupposition rules in the extraction
    key, the sentence verifier in the verdict key; the entity store is in none but extraction's."""
    claims, extraction, verdicts = (
        {m.__name__ for m in import_closure(*roots)}
        for roots in (toolkit.CLAIMS_ROOTS, toolkit.EXTRACT_ROOTS, toolkit.VERDICT_ROOTS))
    assert {"pipeline.claims.extract", "pipeline.claims.vocabulary", "pipeline.documents.citations"} <= claims
    assert {"pipeline.relations.presupposition", "pipeline.relations.features"} <= extraction
    assert {"pipeline.verdicts.rationales", "pipeline.verdicts.reconcile", "pipeline.claims.vocabulary"} <= verdicts
    read = claims | extraction | verdicts
    assert not any(name.startswith(("pipeline.outputs", "pipeline.training")) for name in read)


def test_the_flow_and_its_keys_import_no_model_library() -> None:
    """A run whose every step hits the cache computes every key but runs no model: importing spaCy,
    scispaCy and scikit-learn would cost it 3-5 s."""
    code = ("import sys, flows.evidence_check, pipeline.toolkit as t; from pipeline.codehash import closure_hash; "
            "[closure_hash(*roots) for roots in (t.CLAIMS_ROOTS, t.FETCH_ROOTS, t.EXTRACT_ROOTS, t.VERDICT_ROOTS)]; "
            "closure_hash('pipeline.entities.ner'); "
            "print(sorted({'spacy', 'scispacy', 'sklearn', 'thinc', 'torch', 'pandas'} & set(sys.modules)))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"


def test_a_parse_kept_for_the_next_process_gives_the_same_hash_until_the_source_changes(tmp_path: Path) -> None:
    """The parse each process used to redo is kept beside the bytecode; a kept parse of other
    source, or one that cannot be kept, changes nothing but the time."""
    hashed = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import one;"
              "from pipeline.codehash import code_hash; print(code_hash(one))", str(tmp_path)]
    (tmp_path / "one.py").write_text(ONE)
    first = subprocess.run(hashed, capture_output=True, text=True, check=True).stdout
    kept = tmp_path / "__pycache__" / "one.codehash.json"
    assert kept.is_file()
    assert subprocess.run(hashed, capture_output=True, text=True, check=True).stdout == first
    assert first.strip() == code_hash(module(tmp_path / "fresh_one.py", ONE))

    (tmp_path / "one.py").write_text(ONE.replace("LIMIT = 3", "LIMIT = 4"))
    changed = subprocess.run(hashed, capture_output=True, text=True, check=True).stdout
    assert changed != first

    shutil.rmtree(tmp_path / "__pycache__")
    (tmp_path / "__pycache__").write_text("not a folder: nothing can be kept")
    assert subprocess.run(hashed, capture_output=True, text=True, check=True).stdout == changed
