# Two commands matter: `make demo` and `make test`. Both build .venv from scratch if needed.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint typecheck unit reliability mutate bench manifests install clean stalled lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/entra-sync demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# Branch coverage of core/ and bot/; fails below the floor set in pyproject.toml.
unit: $(VENV)/.dev-installed
	$(BIN)/pytest --cov --cov-report=term

test: lint typecheck unit

# The reliability suites as tables (they also run inside `make unit`).
reliability: $(VENV)/.dev-installed
	$(BIN)/python -m tests.reliability
	$(BIN)/python -m tests.reliability_faults

# Both Slack app manifests, generated from bot/manifest.py (a test fails when they differ).
manifests: $(VENV)/.installed
	$(BIN)/python -m bot.manifest manifests

# Mutation testing of the rule modules (docs/testing.md); not part of `make test`.
# A fresh run each time, MUTATE_JOBS workers (the default suits a 2-core machine).
MUTATE_JOBS ?= 2
mutate: $(VENV)/.dev-installed
	rm -rf mutants
	@start=$$(date +%s); \
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS) || exit $$?; \
	echo "mutmut run took $$(( $$(date +%s) - start )) s"
	$(BIN)/python -m tests.mutation_report --fail-under 95

# What a sync and a preview cost at 10k to 100k directory users on the sandbox; writes
# docs/performance.md. Not part of `make test`: it takes a while (BENCH_SIZES=10k,20k
# picks some sizes).
BENCH_SIZES ?= 10k,20k,50k,100k
bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.bench --sizes $(BENCH_SIZES)

# HTTP mode under stalled connections: STALLED_N of them open, then a signed slash
# command must still be answered; prints its latency and when the server closed them.
STALLED_N ?= 500
stalled: $(VENV)/.dev-installed
	$(BIN)/python -m tests.stalled --connections $(STALLED_N)

# The container's dependencies, pinned with hashes, from pyproject.toml (and the
# postgres extra). Refresh after changing a dependency, or to take security fixes.
lock: $(VENV)/.dev-installed
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --upgrade --generate-hashes \
		--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--extra postgres --all-build-deps --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .coverage .coverage.* mutants
