# Two commands: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install lock lint bench serve docs clean

demo: install
	$(BIN)/azak demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The KRX calendar of this year is built into the installation (~3 s of CPU a fresh home's first
# command would pay otherwise); the check is a file read when it is there.
install: $(STAMP) node_modules/.package-lock.json
	@$(BIN)/python -m azak_pipelines.lib.calendar.krx_calendar >/dev/null

# The TypeScript client check (tests/api/test_client.py) needs the locked npm packages; without
# node the test says so and skips.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent \
		|| echo "npm ci failed: the demo does not need it; the TypeScript client test will fail until it succeeds"; \
	else echo "node/npm not found: skipping npm ci (the TypeScript client test will skip)"; fi

# Idempotent bootstrap: a venv, uv from PyPI, the locked dependency set, the project itself.
# Bytecode is compiled here, once: where PYTHONDONTWRITEBYTECODE is set (the image, some shells),
# every command would otherwise compile Dagster's modules again (seconds of CPU per command:
# benchmarks/import_prices.py --held-out measures it).
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q azak_core azak_pipelines azak_cli azak_api
	@touch $(STAMP)

# Re-resolve the lock file after changing dependencies in pyproject.toml.
lock:
	@test -x $(BIN)/uv || (test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install --quiet "uv==0.13.9")
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --quiet -o requirements.lock

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy azak_pipelines azak_api azak_cli
	$(BIN)/python scripts/sqlfluff_dbt.py lint
	$(BIN)/python scripts/duplicate_code.py
	# the code location as Dagster's own tooling loads it (a throw-away instance: no storage needed)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) DAGSTER_HOME=$$(mktemp -d) $(BIN)/dg check defs

bench: install
	$(BIN)/python -m benchmarks

serve: install
	$(BIN)/azak serve

# The docs site from docs/ into site/; warnings are errors (mkdocs.yml: strict).
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	-$(BIN)/azak db stop
	rm -rf $(VENV) .azak
