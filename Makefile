# Two commands matter: `make run` and `make test`. Both create the virtual environment first,
# installing exactly the versions in constraints.txt.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIN    := -c constraints.txt

.PHONY: install run test test-quick lint types unit bench bench-archive lock clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(PIN) --upgrade pip
	$(BIN)/pip install --quiet $(PIN) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  # the environment alone (.venv with the dev tools), nothing run

run: $(STAMP)
	$(BIN)/monitor run

test: lint types unit

# The quick tier: everything but the tests marked slow (processes, PostgreSQL-wide runs,
# the corpus, benchmarks' smoke runs); under a minute here.
test-quick: $(STAMP)
	$(BIN)/pytest -m "not slow" -q

lint: $(STAMP)
	$(BIN)/ruff check monitor tests benchmarks run_monitor.py
	$(BIN)/ruff format --check monitor tests benchmarks run_monitor.py
	$(BIN)/lint-imports --no-cache

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# Benchmarks: the whole suite with its default sizes (benchmarks/README.md lists the flags;
# pass them as BENCH_ARGS="--quick").
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The archive benchmark at full size: 1,000,000 articles on SQLite and PostgreSQL (building
# takes 25-40 minutes per database; BENCH_ARGS="--keep" keeps them for the next
# run, BENCH_ARGS="--databases sqlite" picks one). `make bench` runs it at 100,000.
bench-archive: $(STAMP)
	$(BIN)/python -m benchmarks.archive --articles 1000000 $(BENCH_ARGS)

# Re-pin: resolve pyproject.toml's ranges afresh in a scratch environment, write what came.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; .venv-lock/bin/pip freeze --all --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
