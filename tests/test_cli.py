"""The `litmine` command line: help, import, stats, search, and clear errors."""
import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.config import load_settings

ENTREZ = load_settings().shared / "entrez"
runner = CliRunner()


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LITMINE_DATA", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("command", [[], ["import"], ["stats"], ["search"], ["fetch"], ["kb"], ["run"], ["server"],
                                     ["server", "start"], ["server", "stop"], ["deploy"], ["trigger"],
                                     ["status"], ["export"], ["bench"], ["models", "build"], ["models", "export"],
                                     ["evaluate"], ["evaluate", "claims"],
                                     ["evaluate", "verdicts"], ["evaluate", "relations"], ["evaluate", "calibration"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_import_twice_adds_nothing_and_search_finds_records(data):
    first = runner.invoke(app, ["import", "--no-progress", str(ENTREZ)])
    assert first.exit_code == 0, first.output
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["records"] == 18 and stats["sources"] == {"pmc": 9, "pubmed": 9}

    again = runner.invoke(app, ["import", "--no-progress", str(ENTREZ)])
    assert again.exit_code == 0
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout) == stats

    hits = json.loads(runner.invoke(app, ["search", "tuberculosis", "--json"]).stdout)
    assert hits and all("pmid" in h and h["score"] > 0 for h in hits)


def test_bad_input_is_one_clear_error(data, tmp_path):
    result = runner.invoke(app, ["import", str(tmp_path / "nowhere.xml")])
    assert result.exit_code == 2 and "nowhere.xml" in result.output
    result = runner.invoke(app, ["run", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2 and "missing.txt: no such document" in result.output
    broken = tmp_path / "broken.xml"
    broken.write_text("<PubmedArticleSet><PubmedArticle><MedlineCitation>")
    result = runner.invoke(app, ["import", "--no-progress", str(broken)])
    assert result.exit_code == 2 and "broken.xml" in result.output


def test_a_run_without_models_names_the_command_that_builds_them(data, tmp_path, kb, monkeypatch):
    shutil.copy(kb.path, data / "kb.sqlite")
    monkeypatch.setenv("LITMINE_MODELS", str(tmp_path / "no-models"))
    note = tmp_path / "note.txt"
    note.write_text("Sertraline inhibits Kir4.1 channels.\n")
    result = runner.invoke(app, ["run", "--offline", "--out", str(tmp_path / "out"), str(note)])
    assert result.exit_code == 2 and "litmine models build" in result.output and "Traceback" not in result.output


def test_importing_the_flows_leaves_the_environment_alone():
    """Prefect's settings are the entry points' to apply (flows.prefect_settings), not an import's."""
    import subprocess
    import sys

    code = ("import os; before = dict(os.environ); import flows, flows.cli, flows.evidence_check, flows.server; "
            "print(sorted(set(os.environ.items()) ^ set(before.items())))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_a_command_applies_prefects_settings_inside_the_data_folder(data, monkeypatch):
    for name in ("PREFECT_HOME", "PREFECT_LOCAL_STORAGE_PATH", "PREFECT_API_URL"):
        monkeypatch.setenv(name, "")  # so that what the command sets is undone after the test
        monkeypatch.delenv(name)
    assert runner.invoke(app, ["stats", "--json"]).exit_code == 0
    assert os.environ["PREFECT_HOME"] == str(data / "prefect")
    assert os.environ["PREFECT_LOCAL_STORAGE_PATH"] == str(data / "cache")



def test_evaluate_json_prints_the_figures_alone_and_tables_read_their_attributes(data, monkeypatch):
    import sys

    from pipeline.evaluation import entities, relations
    from pipeline.training import spacy_models

    scores = entities.prf(1, 2, 4)
    as_json = {"precision": 0.5, "recall": 0.25, "f1": 0.3333, "gold": 4, "predicted": 2}

    def relation_figures(corpus, split, entities_, *, settings, progress):
        print("training the model", file=sys.stderr)  # progress: never on stdout
        return relations.RelationFigures(corpus, split, entities_, scores, {"CID": scores})

    monkeypatch.setattr(relations, "evaluate_relations_in_store", relation_figures)
    result = runner.invoke(app, ["evaluate", "relations", "--corpus", "bc5cdr", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"corpus": "bc5cdr", "split": "dev", "entities": "gold", "micro": as_json,
                                         "per_type": {"CID": as_json}}
    table = runner.invoke(app, ["evaluate", "relations", "--corpus", "bc5cdr"])
    assert table.exit_code == 0 and "CID" in table.stdout and "0.333" in table.stdout

    monkeypatch.setattr("flows.evaluate._pipeline_tagger", lambda settings, corpus: None)
    monkeypatch.setattr(spacy_models, "gold_split", lambda store, corpus, split: [])
    monkeypatch.setattr(entities, "evaluate_ner", lambda tagger, docs, corpus, split: entities.NerFigures(
        corpus, split, "v1", {"Gene": scores}, scores, 3, None))
    result = runner.invoke(app, ["evaluate", "ner", "--corpus", "nlm_gene", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"corpus": "nlm_gene", "split": "dev", "tagger": "v1",
                                         "per_type": {"Gene": as_json}, "overall": as_json, "documents": 3,
                                         "abstracts_per_second": None}
    table = runner.invoke(app, ["evaluate", "ner", "--corpus", "nlm_gene"])
    assert table.exit_code == 0 and "Gene" in table.stdout and "0.250" in table.stdout
