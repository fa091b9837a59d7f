# One entry point for the developer workflow. `make demo` and `make test` set up .venv first
# when it is missing or older than the requirement files, so each is one command on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt dags/constraints.txt
PYTEST_ARGS ?=
# Local Spark (tests, the emulator's Glue runs) stays on loopback, whatever the host name resolves to.
export SPARK_LOCAL_IP := 127.0.0.1

.PHONY: setup test test-fast lint demo up down status bench chaos clean

setup: $(STAMP)

$(STAMP): $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + ")")'
	@command -v java >/dev/null || { echo "Java 17+ is required for Spark (install a JDK, e.g. apt-get install openjdk-17-jre-headless)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	# requirements.txt names MWAA's path to the constraints file; locally the same file is in dags/.
	grep -v '^--constraint' requirements.txt > $(VENV)/requirements-local.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet \
		-r $(VENV)/requirements-local.txt -r requirements-dev.txt -c dags/constraints.txt
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The chaos suite's full profile (issue 15): 24 files, 22 faults on a stack of its own; `make test` runs
# its small profile. CHAOS_SEED=N repeats a run (the seed is printed first).
chaos: $(STAMP)
	CHAOS_PROFILE=$${CHAOS_PROFILE:-full} $(BIN)/python -m pytest tests/chaos -q -s $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python -m local_stack demo

up: $(STAMP)
	$(BIN)/python -m local_stack up

down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m local_stack down; fi

status: $(STAMP)
	$(BIN)/python -m local_stack status

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean: down
	rm -rf .local
