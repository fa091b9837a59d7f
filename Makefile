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

.PHONY: help setup test test-fast browser lint demo up down status doctor bench chaos clean bundle deploy

# `make help` lists the targets from their `## ` comments.
help: ## list the targets, one line each
	@awk -F ':[^#]*## ' '/^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(firstword $(MAKEFILE_LIST))

setup: $(STAMP) ## build .venv (Airflow, PySpark, moto, ... with MWAA's constraints); again when requirements change

$(STAMP): $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + ")")'
	@command -v java >/dev/null || { echo "Java 17+ is required for Spark (install a JDK, e.g. apt-get install openjdk-17-jre-headless)"; exit 1; }
	@echo "setup: [1/3] virtual environment $(VENV) and the uv installer"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	@# requirements.txt names MWAA's path to the constraints file; locally the same file is in dags/.
	@grep -v '^--constraint' requirements.txt > $(VENV)/requirements-local.txt
	@echo "setup: [2/3] requirements.txt + requirements-dev.txt with dags/constraints.txt" \
		"(about 220 packages: minutes the first time, seconds after)"
	@# uv's summary lines (resolved, prepared, installed, with timings), not one line per package.
	@set -o pipefail; $(BIN)/uv pip install --python $(BIN)/python \
		-r $(VENV)/requirements-local.txt -r requirements-dev.txt -c dags/constraints.txt 2>&1 \
		| { grep -v '^ [-+~] ' || true; }
	@touch $(STAMP)
	@echo "setup: [3/3] done: $(VENV) is ready"

lint: $(STAMP) ## ruff, cfn-lint on the CloudFormation template, shellcheck on the scripts
	$(BIN)/ruff check .
	$(BIN)/cfn-lint --non-zero-exit-code error infra/imdb-pipeline.yaml
	$(BIN)/shellcheck infra/startup.sh infra/deploy.sh

# The chaos suite's small profile closes the run (its own stack; about 14 minutes); `make chaos`
# runs the full one.
test: $(STAMP) browser lint ## lint, every test tier, then the chaos suite's small profile, as CI runs them
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	CHAOS_PROFILE=small $(BIN)/python -m pytest tests/chaos -m chaos -q -s

# The quality view's browser test drives the distribution's headless Chromium (no browser download).
browser: ## install Debian's headless chromium and chromium-driver when missing (for the UI test)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		echo "browser: installing Debian's chromium and chromium-driver for the UI test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
		|| { echo "install chromium and chromium-driver (e.g. apt-get install chromium chromium-driver)"; exit 1; }; }

# The Spark unit tests and those needing the package registry run in `make test` only. Two workers:
# most of the time goes into fresh interpreters importing Airflow, which run side by side.
test-fast: $(STAMP) ## DAG integrity and unit tests without Spark or the package registry (about a minute)
	$(BIN)/python -m pytest tests/dags tests/unit -m "not spark and not registry" -n 2 $(PYTEST_ARGS)

# The chaos suite (issue 15) on a stack of its own: kill -9 of scheduler, triggerer, emulator,
# PostgreSQL and Glue runs while files stream in. The full profile takes about 20 minutes; `make test`
# runs the small one. CHAOS_PROFILE=small|full (default full); CHAOS_SEED=N repeats a run (the seed
# is printed first).
chaos: $(STAMP) ## the chaos suite: faults injected while files stream in, then exactly-once checks
	CHAOS_PROFILE=$${CHAOS_PROFILE:-full} $(BIN)/python -m pytest tests/chaos -m chaos -q -s $(PYTEST_ARGS)

demo: $(STAMP) ## start the local stack, upload the sample file, show its DAG run task by task
	$(BIN)/python -m local_stack demo

up: $(STAMP) ## start the local stack (emulator, PostgreSQL, Airflow) and check it
	$(BIN)/python -m local_stack up

down: ## stop the local stack
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m local_stack down; fi

status: $(STAMP) ## show each service of the local stack and its port
	$(BIN)/python -m local_stack status

doctor: $(STAMP) ## check the running stack's settings, connections and services
	$(BIN)/python -m local_stack doctor

bench: $(STAMP) ## speed benchmarks, as ratios against a reference measured in the same run
	$(BIN)/python -m benchmarks

# AWS deployment (README "Deploy to AWS"). awscli v1 pins rsa<4.8, which MWAA's constraints pin
# higher, so it runs in its own environment (uv tool run) rather than in .venv.
AWSCLI := awscli==1.46.3
AWS_CLI ?= $(abspath $(BIN))/uv tool run --from $(AWSCLI) aws
STACK ?= imdb-pipeline
REGION ?= $(AWS_DEFAULT_REGION)
BUNDLE_DIR ?= build/mwaa
PARAMETERS ?=

bundle: $(STAMP) ## build the MWAA artifacts under build/mwaa (dags with include/, plugins.zip, requirements, startup.sh)
	$(BIN)/python infra/bundle.py --out $(BUNDLE_DIR)

deploy: bundle ## deploy the CloudFormation stack and sync the artifacts (STACK=... REGION=...)
	@test -n "$(REGION)" || { echo "REGION is required, e.g. make deploy STACK=imdb-pipeline REGION=eu-west-1"; exit 2; }
	AWS_CLI="$(AWS_CLI)" BUNDLE_DIR="$(abspath $(BUNDLE_DIR))" infra/deploy.sh $(STACK) $(REGION) $(PARAMETERS)

clean: down ## stop the stack and delete its state (.local/) and build output (build/)
	rm -rf .local build
