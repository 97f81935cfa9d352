"""litmine's entity pipeline saved as one folder (the reduced CI models): `spacy.load` of a copy of it,
in a fresh process without litmine's settings, store, models or shared data, finds and links what
the pipeline `load_pipeline` assembles does."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from conftest import shared_document
from flows.cli import app
from pipeline.entities.alias_index import BUILD_FILE, KB_FILE
from pipeline.entities.ner import PipelineTagger, load_pipeline, pipeline_folder
from pipeline.entities.versions import NER_MODELS, ner_order

SENTENCES = ["Sertraline inhibited Kir4.1 currents in rat astrocytes.",
             "Valproic acid (VPA) induced seizures; VPA levels rose in mice lacking Tnf."]

# Loads a saved pipeline as a user would, in a process whose litmine may not read its settings:
# spaCy finds litmine's components through the entry points of pyproject.toml.
LOAD = """
import json, sys
import pipeline.config

def refuse(*args, **kwargs):
    raise AssertionError("a component read litmine's settings")

pipeline.config.load_settings = refuse  # before spaCy imports any of litmine's components
import spacy

nlp = spacy.load(sys.argv[1])
print(json.dumps({"names": nlp.pipe_names, "entities": [
    [[e.start_char, e.end_char, e.label_, e.kb_id_, e._.kb_name, e._.species, e._.species_gene_id] for e in doc.ents]
    for doc in nlp.pipe(json.loads(sys.stdin.read()))]}))
"""


def entities(docs) -> list[list[list[object]]]:
    return [[[e.start_char, e.end_char, e.label_, e.kb_id_, e._.kb_name, e._.species, e._.species_gene_id]
             for e in doc.ents] for doc in docs]


def test_a_copy_of_the_saved_pipeline_loads_alone_and_tags_alike(trained, kb, pipeline_tagger: PipelineTagger,
                                                                   tmp_path: Path) -> None:
    texts = [shared_document("pssd-glutamate.txt"), shared_document("ssri-blunted-affect.txt"), *SENTENCES]
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(pipeline_folder(trained, kb, ner_order(trained)), elsewhere)  # as on another machine
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LITMINE_", "NCBI_"))} | {"HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", LOAD, str(elsewhere)], input=json.dumps(texts), env=env,
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, (f"{result.stderr[-3000:]}\nspaCy finds litmine's components through the entry "
                                    "points of pyproject.toml: `make setup` installs them")
    loaded = json.loads(result.stdout)
    assembled = load_pipeline(trained, kb, ner_order(trained))
    assert loaded["names"] == assembled.pipe_names == pipeline_tagger.nlp.pipe_names
    expected = entities(assembled.pipe(texts))
    assert loaded["entities"] == expected == entities(pipeline_tagger.nlp.pipe(texts))
    # what the comparison covers: ids, names, a gene's organism, an abbreviation linked through its long form
    found = {tuple(e) for doc in expected for e in doc}
    assert {(e[3], e[6]) for e in found if e[2] == "Gene" and e[5] == "NCBITaxon:10116"} >= {("HGNC:6256", "29718")}
    vpa = [e for e in expected[3] if SENTENCES[1][e[0]:e[1]] == "VPA"]
    assert len(vpa) == 2 and all(e[3] and e[3] == vpa[0][3] and e[4] for e in vpa)


def test_the_pipeline_is_saved_once_whole_and_named_by_its_version(trained, kb, pipeline_tagger: PipelineTagger
                                                                   ) -> None:
    folder = pipeline_folder(trained, kb, ner_order(trained))
    assert folder.name == pipeline_tagger.version
    stamp = (folder / "meta.json").stat().st_mtime_ns
    assert pipeline_folder(trained, kb, ner_order(trained)) == folder
    assert (folder / "meta.json").stat().st_mtime_ns == stamp  # saved once, then read
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["litmine_pipeline"] == folder.name and list(meta["litmine_models"]) == list(NER_MODELS)
    assert {p.name for p in (folder / "litmine_linker").iterdir()} == {
        "kb.sqlite", KB_FILE, BUILD_FILE, "tfidf_vectorizer.joblib", "tfidf_vectors_sparse.npz", "concept_aliases.json",
        "tables.json.gz"}
    assert "kb_path" not in (folder / "config.cfg").read_text()  # no path of the machine that built it
    nlp = pipeline_tagger.nlp
    assert nlp.get_pipe("kb_features").tagger is nlp.get_pipe("litmine_linker").linker.tagger  # the KB travels once


def test_models_export_writes_the_pipeline_litmine_runs(data_dir: Path, trained, kb, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["models", "export", str(tmp_path / "exported")])
    assert result.exit_code == 0, result.output
    source = pipeline_folder(trained.with_overrides(data=data_dir), kb, ner_order(trained))
    files = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(tmp_path / "exported")) for p in (tmp_path / "exported").rglob("*")
                           if p.is_file())
    again = runner.invoke(app, ["models", "export", str(tmp_path / "exported")])
    assert again.exit_code != 0 and "already exists" in again.output
