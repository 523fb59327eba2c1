# Two entry points: `make run` and `make test`. Both create and update .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types pytest bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/sicherheitsanalyse setup
	$(BIN)/streamlit run serve.py --server.port 8501 --server.headless true --browser.gatherUsageStats false

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy --strict

pytest: $(STAMP)
	$(BIN)/pytest

test: lint types pytest

# Every benchmark in bench/, one after the other; each prints its figures (docs/performance.md).
BENCHMARKS := questionnaire_load storage_throughput scoring_pipeline priorities_page report_pdf rank_coverage paper_scanning

bench: $(STAMP)
	@set -e; for benchmark in $(BENCHMARKS); do \
		echo "== bench.$$benchmark"; \
		$(BIN)/python -m bench.$$benchmark; \
	done

clean:
	rm -rf $(VENV)
