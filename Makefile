# The operator interface of ARCHITECTURE.md: setup, run, test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs the runtime dependencies only; `make test` (and bench, soak,
# fuzz, lint, format) adds the dev extras. Going from one to the other installs only the difference.
# Both install exactly what the lock files pin, each file checked against its hash
# (requirements.lock: the runtime set; requirements-dev.lock: runtime and dev; `make lock`
# regenerates them from pyproject.toml), then the project itself without resolving anything.
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# Where `make run` serves (the web UI, the API, the envelope endpoint) and its embedded broker.
PORT ?= 8000
BROKER_PORT ?= 9092

# Apache Kafka (make kafka-up): its clients' port; its KRaft controller listens on the next one.
KAFKA_PORT ?= 9093
KAFKA_CONTROLLER_PORT ?= 9094

.PHONY: setup run test test-postgres test-kafka lint format clean bench soak fuzz kafka-up kafka-down lock

# The replay player of the web UI (rrweb-player), served as a static file; reinstalled only when
# the lock file changes.
NODE_STAMP := node_modules/.package-lock.json

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) $(DEV_LOCK)
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	touch $(DEV_STAMP)

# Regenerate the lock files after a change to pyproject.toml's dependencies, with pip-tools in a
# throwaway venv of its own (never the project's). Pins already in the files are kept; add
# --upgrade to PIP_COMPILE_ARGS to move them to the newest versions allowed.
PIP_COMPILE_ARGS ?=
PIP_COMPILE := var/pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-find-links --no-emit-index-url $(PIP_COMPILE_ARGS)
lock:
	test -x var/pip-tools/bin/pip-compile || \
		{ $(PYTHON) -m venv var/pip-tools && var/pip-tools/bin/pip install --quiet pip-tools; }
	$(PIP_COMPILE) --extra dev --output-file $(DEV_LOCK) pyproject.toml
	# pip-compile resolves for this machine and drops pyproject's markers: atheris is Linux-only.
	sed -i 's/^atheris==\([^ ]*\) \\$$/atheris==\1 ; sys_platform == "linux" \\/' $(DEV_LOCK)
	$(PIP_COMPILE) --constraint $(DEV_LOCK) --output-file $(LOCK) pyproject.toml

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)
	$(BIN)/python manage.py migrate --no-input --verbosity 0
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0

run: setup
	$(BIN)/python manage.py devstack --port $(PORT) --broker-port $(BROKER_PORT)

# The suite runs in TEST_WORKERS processes (pytest-xdist; `auto`: one per core), each with its own
# broker and database, a test file's tests together in one of them. Half of a serial run's time
# is spent waiting (processes starting, brokers electing, consumers polling): two workers on two
# cores take about two thirds of its time. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: setup $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check --output-format concise .
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --dist loadfile

# The benchmark (bench/): prints one table and writes bench/results.json; figures, not asserts.
bench: setup $(DEV_STAMP)
	$(BIN)/python -m bench

# The soak (bench/soak.py): envelopes through the whole embedded stack, then the count check and
# each process's memory; exits 1 when a check fails. The test suite runs it with 3,000.
SOAK_ENVELOPES ?= 100000
soak: setup $(DEV_STAMP)
	$(BIN)/python -m bench.soak --envelopes $(SOAK_ENVELOPES)

# Coverage-guided fuzzing (atheris/libFuzzer, fuzz/) of ingest's parsers and of the detection
# core, FUZZ_SECONDS each; a crash leaves its input in var/fuzz/. The suite runs 3,000 inputs each.
FUZZ_SECONDS ?= 300
fuzz: $(DEV_STAMP)
	mkdir -p var/fuzz
	$(BIN)/python fuzz/envelope_fuzz.py -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=var/fuzz/
	$(BIN)/python fuzz/recording_fuzz.py -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=var/fuzz/

test-postgres:
	bash .ci/with-postgres $(MAKE) test

# CI's second pass: the suite's engine-dependent tests (TEST_ENGINE_DEPENDENT_ONLY=1,
# tests/engine_dependent.py) on PostgreSQL and Apache Kafka (the session's broker, started and
# stopped by tests/conftest.py; TEST_KAFKA=apache).
test-kafka:
	bash .ci/with-postgres env TEST_KAFKA=apache TEST_ENGINE_DEPENDENT_ONLY=1 $(MAKE) test

# Apache Kafka (KRaft, one node that is broker and controller) from its Maven Central jars
# (deploy/kafka/pom.xml, fetched with mvn on first use), run with the machine's Java in the
# background; data and server.log in var/kafka/. `manage.py devstack --kafka 127.0.0.1:9093`
# runs the pipeline on it.
kafka-up: $(STAMP)
	$(BIN)/python -m pipeline.apache_kafka up --port $(KAFKA_PORT) --controller-port $(KAFKA_CONTROLLER_PORT) --dir var/kafka

kafka-down: $(STAMP)
	$(BIN)/python -m pipeline.apache_kafka down --dir var/kafka

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check --output-format concise .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis node_modules deploy/kafka/target
