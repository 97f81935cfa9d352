"""`litmine models build` as a whole (pipeline.training.build): steps run after what they need, the
longest chain first, several at once in worker processes whose lines name their model; a failure names
its model and keeps what the others built; the build's record; the same files from a worker as from
this process. Stand-in steps (below) take a moment where the real ones train for minutes."""
from __future__ import annotations

import json
import os
import shutil
import time
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.config import Settings, load_settings
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.linking import read_tables, write_tables
from pipeline.records.importers import import_paths
from pipeline.records.store import Store
from pipeline.training.build import SUMMARY, BuildFailed, Step, build_all
from pipeline.training.comentions import build_links
from pipeline.training.spacy_models import MODELS, build_model


def made(name: str, settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool, seconds: float = 0.3) -> Path:
    """A stand-in model: its folder, written unless there, with a line in the build's log as it starts
    and ends (the process it ran in, the time) and one on stdout."""
    folder = settings.models / name / "key1"
    with (settings.data / "log").open("a") as log:
        log.write(f"{name} start {os.getpid()} {time.time()}\n")
    if not (folder / "model.txt").is_file():
        print(f"making {name}")
        time.sleep(seconds)
        folder.mkdir(parents=True)
        (folder / "model.txt").write_text(name)
    with (settings.data / "log").open("a") as log:
        log.write(f"{name} end {os.getpid()} {time.time()}\n")
    return folder


def refused(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    raise ValueError("no gold documents for bad train")


def crashed(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    os._exit(3)


def stand_in(name: str, *needs: str, seconds: float = 0.3, estimate: float = 60.0) -> Step:
    return Step(name, partial(made, name, seconds=seconds), needs, estimate)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    return load_settings().with_overrides(data=data, models=tmp_path / "models")


def log(settings: Settings) -> list[tuple[str, str, int, float]]:
    lines = [line.split() for line in (settings.data / "log").read_text().splitlines()]
    return [(name, event, int(pid), float(at)) for name, event, pid, at in lines]


def test_steps_start_after_what_they_need_the_longest_chain_first(settings: Settings, kb: KnowledgeBase) -> None:
    # listed shortest first; "parser" heads the longest chain (parser > relations), "ner" needs nothing
    steps = [stand_in("ner", estimate=200), stand_in("relations", "parser", estimate=300),
             stand_in("pipeline", "ner", "parser", estimate=10), stand_in("parser", estimate=800)]
    build_all(settings, kb, jobs=1, steps=steps)
    events = log(settings)
    assert [name for name, event, _, _ in events if event == "start"] == ["parser", "relations", "ner", "pipeline"]
    assert {pid for _, _, pid, _ in events} == {os.getpid()}  # --jobs 1: in this process


def test_steps_run_at_once_in_workers_whose_lines_name_their_model(settings: Settings, kb: KnowledgeBase,
                                                                   capfd: pytest.CaptureFixture) -> None:
    steps = [stand_in("parser", seconds=4, estimate=800), stand_in("ner", seconds=1),
             stand_in("verifier", seconds=1), stand_in("relations", "parser", seconds=0.1)]
    build = build_all(settings, kb, jobs=2, steps=steps)
    events = {(name, event): (pid, at) for name, event, pid, at in log(settings)}
    assert events[("ner", "start")][1] < events[("parser", "end")][1]  # beside the parser
    assert events[("verifier", "start")][1] < events[("parser", "end")][1]
    assert events[("relations", "start")][1] >= events[("parser", "end")][1]  # after what it needs
    workers = {pid for pid, _ in events.values()}
    assert len(workers) == 2 and os.getpid() not in workers
    output = capfd.readouterr()
    assert {"[parser] making parser", "[ner] making ner", "[verifier] making verifier"} <= set(output.out.splitlines())
    assert "[relations] trained" in output.err
    assert build.jobs == 2 and set(build.models) == {"ner", "verifier", "parser", "relations"}


def test_the_build_records_what_each_step_did(settings: Settings, kb: KnowledgeBase) -> None:
    steps = [stand_in("parser"), stand_in("relations", "parser")]
    first = build_all(settings, kb, jobs=2, steps=steps)
    record = json.loads((settings.models / SUMMARY).read_text())
    assert record["clean"] is True and record["jobs"] == 2 and record["seconds"] == first.seconds > 0.6
    assert record["models"]["relations"] == {"key": "key1", "folder": "relations/key1", "trained": True,
                                             "seconds": first.models["relations"].seconds}
    build_all(settings, kb, jobs=1, steps=steps)
    record = json.loads((settings.models / SUMMARY).read_text())
    assert record["clean"] is False and record["jobs"] == 1
    assert [m["trained"] for m in record["models"].values()] == [False, False]  # up to date


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_step_names_its_model_and_keeps_what_the_others_built(settings: Settings, kb: KnowledgeBase,
                                                                        jobs: int) -> None:
    steps = [stand_in("parser", seconds=1, estimate=800), Step("ner_gene", refused, (), 300),
             stand_in("relations", "ner_gene"), stand_in("links", estimate=10)]
    with pytest.raises(BuildFailed) as failed:
        build_all(settings, kb, jobs=jobs, steps=steps)
    message = str(failed.value)
    assert message.startswith("model ner_gene not built: no gold documents for bad train")
    assert "kept: parser" in message and "not started: relations, links" in message
    assert (settings.models / "parser" / "key1" / "model.txt").is_file()  # what ran beside it finished
    assert not (settings.models / "relations").exists() and not (settings.models / SUMMARY).exists()
    steps[1] = stand_in("ner_gene")
    assert build_all(settings, kb, jobs=jobs, steps=steps).models["parser"].trained is False  # kept


def test_a_worker_that_dies_fails_its_model(settings: Settings, kb: KnowledgeBase) -> None:
    with pytest.raises(BuildFailed, match=r"^model verifier not built: its worker process ended \(exit code 3\)"):
        build_all(settings, kb, jobs=2, steps=[Step("verifier", crashed), stand_in("links")])


def test_steps_that_need_unknown_or_each_other_are_refused(settings: Settings, kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="unknown or repeated: parser"):
        build_all(settings, kb, steps=[stand_in("relations", "parser")])
    with pytest.raises(ValueError, match="need each other: a > b > a"):
        build_all(settings, kb, steps=[stand_in("a", "b"), stand_in("b", "a")])


def test_the_command_names_each_model_that_failed_in_one_error(tmp_path: Path, kb: KnowledgeBase,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"  # ../shared without the CRAFT treebank; and nothing imported into the store
    (shared / "treebanks").mkdir(parents=True)
    for path in [*load_settings().shared.iterdir(), *(load_settings().shared / "treebanks").iterdir()]:
        if path.name not in ("treebanks", "craft"):
            (shared / path.relative_to(load_settings().shared)).symlink_to(path)
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(kb.path, data / "kb.sqlite")
    for variable, value in (("LITMINE_SHARED", shared), ("LITMINE_DATA", data), ("LITMINE_MODELS", tmp_path / "m")):
        monkeypatch.setenv(variable, str(value))
    result = CliRunner().invoke(app, ["models", "build", "--reduced", "--jobs", "2"])
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert result.exit_code == 2 and "Traceback" not in result.output and len(errors) == 1
    assert "model parser_craft not built: no CoNLL-U files in" in errors[0]
    assert "model ner_biored not built: no gold documents for biored train" in errors[0]
    assert "kept: nothing; not started: ner_bc5cdr" in errors[0]


def quick_ner(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    """BioRED's NER recipe on its first 10 documents for 20 steps."""
    return build_model(next(spec for spec in MODELS if spec.name == "ner_biored"), settings, store, kb, {
        "training.max_epochs": 0, "training.max_steps": 20, "training.eval_frequency": 10,
        "corpora.train.limit": 10, "corpora.dev.limit": 10})


def quick_links(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    return build_links(settings, store, limit=40)


def test_a_model_built_in_a_worker_is_the_one_built_in_this_process(settings: Settings, kb: KnowledgeBase,
                                                                    tmp_path: Path) -> None:
    corpus = settings.shared / "corpora" / "biored"
    if not corpus.is_dir():
        pytest.skip(f"no shared corpus at {corpus}")
    with Store(settings.store_path) as store:
        import_paths([corpus], store, progress=False)
    steps = [Step("ner_biored", quick_ner), Step("links", quick_links)]
    here, there = settings.with_overrides(models=tmp_path / "here"), settings.with_overrides(models=tmp_path / "there")
    build_all(here, kb, jobs=1, steps=steps)
    build_all(there, kb, jobs=2, steps=steps)

    def files(models: Path) -> dict[str, bytes | dict]:
        """Each file's bytes (less the models folder's path and build.json's wall time); spaCy's meta.json as
        what it says: a model this small scores its types in the order of a set of labels, which follows
        the process's hash seed (the reduced and full models' do not: benchmarks/reproducibility.py)."""
        return {str(p.relative_to(models)): json.loads(p.read_text()) if p.name == "meta.json"
                else p.read_bytes().replace(str(models).encode(), b"")
                for p in models.rglob("*") if p.is_file() and p.name not in ("build.json", SUMMARY)}

    assert files(here.models) == files(there.models) and len(files(here.models)) > 10


def test_the_linkers_tables_are_the_same_bytes_whichever_process_writes_them(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    tables = {"lexicon": [["toxicity", "Disease", "MESH:D064420"]], "orthologs": []}
    written = []
    for pid in (101, 20202):  # the temporary file is named by the process
        monkeypatch.setattr(os, "getpid", lambda: pid)
        (tmp_path / str(pid)).mkdir()
        write_tables(tmp_path / str(pid) / "learned-1.json.gz", tables)
        written.append(tmp_path / str(pid) / "learned-1.json.gz")
    assert written[0].read_bytes() == written[1].read_bytes() and read_tables(written[0]) == tables
