# Two commands: `make run` loads the sample partitions, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(DEPS)
# The spark and cluster extras (dbt-spark with PyHive, pyspark) are installed only for the Spark
# suite, which runs when Java is here (`.ci/run` makes sure it is).
SPARK_STAMP := $(VENV)/.installed-spark-$(DEPS)
JAVA := $(shell command -v java 2>/dev/null)

# A pipeline fails when any part of it does (pip's exit code survives the filter below).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's own lines as it goes (no silent minutes), without the hundred "already satisfied".
SHOW_PIP := { grep --line-buffered -v -e '^Requirement already satisfied' -e '^WARNING: Location' || true; }

.PHONY: run test lint docs dbt-test pytest spark-test cluster-start cluster-stop browser bench bench-smoke soak clean

# Installs go through uv (into the venv, from the same registry): 4 to 15x faster than pip with
# warm caches (bench/install.py, docs/performance.md). Where uv cannot be had, pip does it.
UV_VERSION := 0.13.9
INSTALL = install() { if $(BIN)/pip install --disable-pip-version-check --quiet uv==$(UV_VERSION) >/dev/null 2>&1; \
	then $(BIN)/uv pip install --python $(BIN)/python "$$@"; \
	else $(BIN)/pip install --disable-pip-version-check --progress-bar off "$$@"; fi; }; install

$(STAMP): pyproject.toml
	@echo "== installing the runner, dbt and DuckDB into $(VENV) (seconds with warm caches, a minute or two the first time)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(INSTALL) -e '.[dev]' 2>&1 | $(SHOW_PIP)
	rm -f $(VENV)/.installed-* && touch $@

$(SPARK_STAMP): $(STAMP)
	@echo "== installing the Spark extras (dbt-spark, pyspark) into $(VENV)"
	$(INSTALL) -e '.[dev,spark,cluster]' 2>&1 | $(SHOW_PIP)
	touch $@

run: $(STAMP)
	$(BIN)/runner backfill
	$(BIN)/runner status

test: lint dbt-test pytest $(if $(JAVA),spark-test) bench-smoke

lint: $(STAMP)
	$(BIN)/ruff check --output-format concise runner tests bench scripts/gen-cli-docs
	$(BIN)/sqlfluff lint models

# docs/cli.md, the command reference, from every command's --help (tests/test_docs.py fails while
# it is out of date).
docs: $(STAMP)
	$(BIN)/python scripts/gen-cli-docs

# The project's own dbt tests (unit tests, source tests, every data test) on one sample partition,
# in a throwaway warehouse.
dbt-test: $(STAMP)
	rm -rf target/dbt-test && mkdir -p target/dbt-test
	WAREHOUSE_PATH=target/dbt-test/warehouse.duckdb $(BIN)/dbt build --profiles-dir . \
		--target-path target/dbt-test --vars '{partition_date: 2018-01-22}'

pytest: $(STAMP) browser
	$(BIN)/pytest -q -n 2 --durations=10 -m 'not spark'

# The core end-to-end cases on both Spark targets: `spark`, Spark in local mode in the test process
# (one Spark session per process), and `cluster`, one local cluster for the whole run
# (scripts/cluster-start). Needs Java 17; the import check makes a missing extra an error here,
# where the tests alone would skip.
spark-test: $(SPARK_STAMP)
	$(BIN)/python -c 'import pyspark, pyhive.hive, dbt.adapters.spark'
	$(BIN)/pytest -q -m spark --durations=10

# A local Spark standalone cluster with a Thrift server for the cluster target (docs/spark.md, On a cluster):
# everything on 127.0.0.1, under data/cluster (CLUSTER_DIR); ports from CLUSTER_*_PORT.
cluster-start: $(SPARK_STAMP)
	PYTHON=$(BIN)/python scripts/cluster-start

cluster-stop:
	scripts/cluster-stop

# The browser tests drive Debian's Chromium through Python's playwright (a dev dependency);
# `playwright install` would download a browser, which is never done. Installed once, as root.
browser:
	test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

# The backfill benchmark (bench/README.md): every contender on the same seeded files, medians of
# 3 runs, a table on stdout and bench/out/results.json; then the daily operation (bench/daily.py:
# watch latency, the nothing-to-do backfill), and what proving the content costs (bench/content.py).
# Long: run it by hand, not in `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.daily
	$(BIN)/python -m bench.content
	$(BIN)/python -m bench.feel
	$(BIN)/python -m bench.install

# The same, tiny (10 days x 200 rows, 1 run): the harness and its correctness checks, not speed.
# --chunk-mbs 0.03 (31 KB): two of the 12 KB days per chunk, so the smoke also checks a backfill of several
# chunks against the single query.
bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke --chunk-mbs 0.03
	$(BIN)/python -m bench.daily --smoke
	$(BIN)/python -m bench.content --smoke

# Months of unattended operation, simulated night by night against an oracle (bench/simulation.py):
# 300 days for each of three seeds. Long: run it by hand; `make test` runs 60 nights of one seed.
soak: $(STAMP)
	$(BIN)/python -m bench.simulation --days 300 --seeds 11 12 13

clean:
	rm -rf target logs $(VENV)
