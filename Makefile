# Ura — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PERSONS ?= 10000
CODE   := hub mocks fixtures
PG_CLUSTER ?= 15 main

.PHONY: demo test install lint typecheck unit postgres chromium wheel-check constraints bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is needed (found $$($(PYTHON) --version)); set PYTHON=python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

install: $(STAMP) ## create .venv and install the hub with its development tools

demo: $(STAMP) ## generate a population, start the five mock registries, run the hub against them
	$(BIN)/hub demo --persons $(PERSONS)

lint: $(STAMP)
	$(BIN)/ruff check $(CODE) tests bench
	$(BIN)/ruff format --check $(CODE) tests bench

typecheck: $(STAMP)
	$(BIN)/mypy $(CODE)

postgres: ## make sure the local PostgreSQL test server answers (tests need it)
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
		{ command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect $(PG_CLUSTER) start; } || \
		echo "PostgreSQL is not reachable at 127.0.0.1:5432; its tests will skip (and fail with CI=true)"

chromium: ## the browser the console's tests drive: Debian's Chromium, never a browser download
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
		echo "/usr/bin/chromium is missing (install it as root: apt-get install chromium); the console's browser tests will skip"

unit: $(STAMP) postgres chromium
	$(BIN)/pytest

test: lint typecheck unit ## lint, type-check and run the whole suite

wheel-check: ## pip install . in a fresh venv (dependencies from the index), then run the demo from it
	rm -rf var/wheel-check && $(PYTHON) -m venv var/wheel-check/venv
	var/wheel-check/venv/bin/python -m pip install --quiet -c constraints.txt .
	rm -rf build
	cd var/wheel-check && HUB_DATABASE_URL=sqlite:///hub.sqlite3 venv/bin/hub demo --persons 1000

constraints: $(STAMP) ## rewrite constraints.txt from what .venv resolved (after a dependency changed)
	$(BIN)/python tools/constraints.py > constraints.txt

bench: $(STAMP)
	$(BIN)/python bench/generate.py --persons 100000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
