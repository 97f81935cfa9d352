"""benchmarks/bench.py: its cheap parts measured for real (the import against its ceiling, the
requests a fetch makes of the fake E-utilities server) and the results of a run where parts
fail or are left out: every figure there, null with the reason. No timing is asserted."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows import cli
from pipeline.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench  # noqa: E402
from bench_parts import entrez_part, import_part  # noqa: E402

SHARED = load_settings().shared


def pubtator_sample(folder: Path, documents: int) -> Path:
    """The first `documents` abstracts of BC5CDR's test split, as a PubTator file of that split."""
    text = (SHARED / "corpora" / "bc5cdr" / "CDR_TestSet.PubTator.txt").read_text()
    path = folder / "bc5cdr" / "CDR_TestSet.PubTator.txt"
    path.parent.mkdir(parents=True)
    path.write_text("\n\n".join([d.strip("\n") for d in text.split("\n\n") if d.strip()][:documents]) + "\n")
    return path


def test_the_import_is_measured_against_the_same_rows_inserted_plainly(tmp_path):
    part = import_part([pubtator_sample(tmp_path, 300)])
    figures, rows = part.figures, {row["what"]: row for row in part.tables["import"]}
    assert figures["import_records"] == 300
    assert figures["import_rows"] > 300 * 3  # records, their sources and full text, gold documents and mentions
    assert set(rows) == {"litmine import (parse + store)", "parsing alone", "storing alone (parsed beforehand)",
                         "ceiling: executemany of the same rows"}
    # the ratio of the rates (the seconds are shown to 0.01 s, too coarse for a 300-record import)
    assert figures["import_over_ceiling"] == pytest.approx(
        rows["litmine import (parse + store)"]["records_per_s"]
        / rows["ceiling: executemany of the same rows"]["records_per_s"], rel=0.01)


def test_entrez_requests_are_counted_as_the_fake_server_saw_them(kb):
    part = entrez_part(load_settings(), kb, searches=2, bulk=250)
    run, at_once = part.tables["entrez"]
    assert run["records"] == 2 * 50  # each search answered with 50 new records, all fetched and stored
    assert run["requests"] >= 4  # an esearch and an efetch a search, and what the references asked
    assert at_once == {**at_once, "records": 250, "requests": 2}  # epost, then one page from the history server
    assert part.figures["entrez_requests_per_1000_records"] == round(1000 * run["requests"] / 100, 1)
    assert part.figures["entrez_bulk_requests_per_1000_records"] == 8.0
    assert 1 <= part.figures["entrez_peak_requests_per_s"] <= 3  # NCBI's limit without an API key


def test_a_part_that_fails_or_is_left_out_leaves_its_figures_null_with_the_reason(tmp_path):
    failing = tmp_path / "fails.py"
    failing.write_text("import sys\nsys.exit('no trained models here')\n")
    models = tmp_path / "models"
    models.mkdir()
    (models / "last-build.json").write_text(json.dumps({"seconds": 1500, "clean": False, "jobs": 2, "models": ["a"]}))

    result = bench.measure({"nlp": lambda: bench.nlp_part(True, failing),
                            "first_build": lambda: bench.first_build_part(models)}, quick=True, argv=[])
    assert all(result[figure] is None for figure in bench.FIGURES)
    assert result["parts"]["nlp"]["status"] == "failed"
    assert result["parts"]["nlp"]["reason"] == "fails.py exited with status 1: no trained models here"
    assert result["missing"]["nlp_full_abstracts_per_s"].endswith("no trained models here")
    assert "was not a first build" in result["missing"]["first_build_minutes"]
    assert result["missing"]["demo_cold_s"] == "part demo not run (--only)"
    assert result["parts"]["entrez"] == {"status": "skipped"}
    assert result["targets"]["peak_rss_mb"] == {"target": "< 4096", "holds": None}
    assert result["machine"]["cores"] >= 1 and len(result["machine"]["load_average_at_start"]) == 3

    written = bench.write_results({**result, "quick": False}, tmp_path / "results")
    assert [p.name for p in written] == [f"{result['date']}.json", "latest.json"]
    assert json.loads(written[1].read_text()) == {**result, "quick": False}


def test_a_figure_the_throughput_script_does_not_print_is_null(tmp_path):
    script = tmp_path / "throughput.py"
    script.write_text("import json\nprint('warming up')\n"
                      "print(json.dumps({'nlp_full_abstracts_per_s': 31.5, 'rows': [{'stage': 'tokenizer'}]}))\n")
    part = bench.nlp_part(False, script)
    assert part.figures == {"nlp_full_abstracts_per_s": 31.5, "nlp_full_over_tokenizer": None,
                            "all_abstracts_minutes": None}
    assert part.missing["all_abstracts_minutes"] == "throughput.py --json printed no number for all_abstracts_minutes"
    assert part.tables == {"nlp": [{"stage": "tokenizer"}], "scaling": []}


def test_the_script_writes_its_results_and_a_clean_build_counts_as_a_first_build(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "last-build.json").write_text(json.dumps({"seconds": 1500, "clean": True, "jobs": 2, "models": {}}))
    done = subprocess.run([sys.executable, "benchmarks/bench.py", "--quick", "--only", "first_build",
                           "--results", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "LITMINE_MODELS": str(models)})
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "quick.json").read_text())
    assert result["first_build_minutes"] == 25.0 and result["tables"]["first_build"][0]["clean"] is True
    assert "first_build_minutes" in done.stdout and "quick.json" in done.stdout


def test_litmine_bench_outside_a_source_checkout_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("LITMINE_DATA", str(tmp_path))
    monkeypatch.setattr(cli, "BENCH_SCRIPT", tmp_path / "site-packages" / "benchmarks" / "bench.py")
    result = CliRunner().invoke(cli.app, ["bench", "--quick"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert "source checkout" in result.output and "Traceback" not in result.output
