# news-ingest: `make demo` runs the whole pipeline offline; `make test` runs every test; `make airflow` runs a
# local Airflow (UI, REST API, scheduler) until Ctrl-C.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

# Package caches stay inside the checkout too (ignored): nothing is written to the home directory.
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
export PIP_CACHE_DIR ?= $(CURDIR)/.cache/pip

# Airflow's state (database, logs, generated secrets) stays inside the checkout, in an ignored folder
# (`make demo` keeps its own, .state/demo/airflow).
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW_CONFIG := $(CURDIR)/airflow.cfg

.PHONY: demo airflow test test-lowest lint install lock dist bench bench-dag bench-storage mutation clean

# SERVE=1: keep the S3 endpoint, the demo site and an Airflow UI on the demo's run running until Ctrl-C.
demo: $(VENV)/.installed
	$(BIN)/python -m localrun.demo $(if $(SERVE),--serve)

airflow: $(VENV)/.installed
	$(BIN)/python -m localrun.local_airflow

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -rs

# The lower ends of pyproject.toml's ranges: a venv of the lowest versions its direct dependencies allow (Airflow
# 3.3.0, boto3 1.36, pyarrow 21, ...) runs the tests of storage, cleaning, crawling and the DAG end to end (~3 min).
LOWEST := .state/lowest
test-lowest: $(VENV)/.installed
	$(BIN)/uv venv -q --clear --python 3.11 $(LOWEST)
	$(BIN)/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct \
		-e ".[demo,readers,celery,postgres]" --group dev
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider tests/test_table.py tests/test_partition.py \
		tests/test_cleaners.py tests/test_spider.py tests/test_dag_integrity.py tests/test_end_to_end.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .

install: $(VENV)/.installed

# Exact pins from requirements.txt, every transitive version from requirements.lock (as constraints). The .pth puts
# the checkout on the venv's path for the checkout-only modules (localrun, demo_site, airflow_local_settings).
$(VENV)/.installed: requirements.txt requirements.lock pyproject.toml
	@start=$$(date +%s); \
	set -e; \
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"; \
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.txt -c requirements.lock; \
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .; \
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/news_ingest_checkout.pth"; \
	touch $@; \
	echo "install: $$(( $$(date +%s) - start )) s"

# Regenerate the lock after changing requirements.txt.
lock: $(VENV)/.installed
	$(BIN)/uv pip compile requirements.txt --python-version 3.11 --no-header -o requirements.lock

# The installable wheel (runtime packages and the DAGs as news_ingest_dags; no demo, tests or benchmarks) in dist/.
dist: $(VENV)/.installed
	rm -rf dist build
	$(BIN)/uv build --wheel --out-dir dist .
	@ls dist/*.whl

bench: $(VENV)/.installed
	$(BIN)/python bench/clean_quality.py
	$(BIN)/python bench/clean_speed.py
	$(BIN)/python bench/crawl_speed.py

# The whole DAG under Celery with 1 and 2 workers; needs PostgreSQL and Redis on 127.0.0.1 (about 10 min).
bench-dag: $(VENV)/.installed
	$(BIN)/python bench/dag_scale.py --repeat 2

# The clean layer as a Delta table vs the Hive file layout: publish and DuckDB query times, file counts (about 3 min).
bench-storage: $(VENV)/.installed
	$(BIN)/python bench/storage.py

# Mutation testing of the critical modules (mutmut), each with only its fast tests; not part of `make test`
# (a few minutes). The table it prints is in bench/README.md.
mutation: $(VENV)/.installed
	$(BIN)/python bench/mutation.py

clean:
	rm -rf .airflow .state
