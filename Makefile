# litmine: `make demo` runs the main job on ../shared/documents offline; `make test` runs the tests.
# Both bootstrap everything on a fresh clone (uv in .uv/, the locked environment in .venv/).
# `make test-faults` runs the NCBI fault-injection suite alone and prints its table (make test runs it too).
# `make bench` measures every figure side by side and prints one table (after `make demo`: it needs the models);
# `make bench BENCH_ARGS=--quick` skips the slow parts.
SHARED ?= ../shared
UV_VERSION := 0.13.9
UV := .uv/bin/uv
LITMINE := .venv/bin/litmine
export LITMINE_SHARED := $(abspath $(SHARED))
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup demo test test-faults bench kb models clean

setup: .venv/.installed

.uv/bin/uv:
	python3 -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: every command starts from compiled modules even where PYTHONDONTWRITEBYTECODE
# is set (as in CI containers); compiling ~1,300 modules on each start cost a cached `litmine run` ~4 s.
.venv/.installed: pyproject.toml uv.lock | .uv/bin/uv
	$(UV) sync --frozen --all-extras --compile-bytecode --python python3.11
	touch $@

kb: setup
	$(LITMINE) kb

# Trains litmine's spaCy pipelines and relation models and indexes the KB for linking, a model per core at once
# (about 12 min two at a time on 2 cores, on exact matrix products; later runs reuse what is built, keyed by
# config, data, KB and code).
models: setup
	$(LITMINE) import --no-progress $(SHARED)/corpora $(SHARED)/entrez
	$(LITMINE) kb
	$(LITMINE) models build

demo: models
	$(LITMINE) run --offline --out data/processed/runs/demo $(SHARED)/documents/*
	@echo "outputs: $(abspath data/processed/runs/demo)/{claims,evidence,triples,references,citations}.csv and report.html"

test: setup
	.venv/bin/python -m pytest -q

test-faults: setup
	.venv/bin/python -m pytest -q tests/test_faults.py

bench: setup
	$(LITMINE) bench $(BENCH_ARGS)

clean:
	rm -rf .venv .uv data/processed/*.sqlite data/processed/runs data/processed/prefect
