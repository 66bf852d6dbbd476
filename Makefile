# Two commands: `make run` loads the sample partitions, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint dbt-test pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/runner backfill
	$(BIN)/runner status

test: lint dbt-test pytest

lint: $(STAMP)
	$(BIN)/ruff check --output-format concise runner tests
	$(BIN)/sqlfluff lint models

# The project's own dbt tests (unit tests, source tests, every data test) on one sample partition,
# in a throwaway warehouse.
dbt-test: $(STAMP)
	rm -rf target/dbt-test && mkdir -p target/dbt-test
	WAREHOUSE_PATH=target/dbt-test/warehouse.duckdb $(BIN)/dbt build --profiles-dir . \
		--target-path target/dbt-test --vars '{partition_date: 2018-01-22}'

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --durations=10

clean:
	rm -rf target logs $(VENV)
