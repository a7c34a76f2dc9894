# The two commands: `make demo` and `make test`. Both set everything up.
# Two environments: .venv (Python 3.10) for Rasa, the action server and the
# tests that drive them; .venv-connector (current Python) for the connector,
# on current aiohttp, without Rasa. Both install from the lock files in
# requirements/ with uv.
VENV := .venv
PY := $(VENV)/bin/python
CVENV := .venv-connector
CPY := $(CVENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
# uv must not fetch interpreters of its own: the machine's Pythons are used.
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo demo-scale test eval bench lint install model browser services lock clean

demo: model connector
	$(PY) scripts/demo.py $(DEMO_ARGS)

# Two Rasa servers, the action server, two connectors; PostgreSQL and Redis.
demo-scale: model connector services
	$(PY) scripts/demo.py --scale $(DEMO_ARGS)

test: model connector browser services lint
	$(CPY) -m pytest tests/service
	$(CPY) scripts/bench.py --short --json artifacts/bench-smoke.json
	$(PY) scripts/bench_rasa.py --short --json artifacts/bench-rasa-smoke.json
	$(PY) -m pytest --ignore=tests/service

eval: model connector
	$(PY) scripts/eval_triggers.py

# The connector under load, each figure beside a baseline, on SQLite and PostgreSQL
# (docs/benchmarks.md); `make test` runs it in its short mode as a smoke test.
bench: model connector services
	$(CPY) scripts/bench.py
	$(PY) scripts/bench_rasa.py

lint: install
	$(VENV)/bin/ruff check handoff_connector actions scripts tests
	$(CVENV)/bin/mypy handoff_connector/service handoff_connector/common
	$(VENV)/bin/mypy handoff_connector/rasa handoff_connector/common actions

browser:
	scripts/install-chromium

# PostgreSQL (5432) and Redis (6379) for the tests on both databases and the scaled runs.
services:
	scripts/ensure-services

model: install
	$(PY) scripts/train_if_changed.py

connector: $(CVENV)/.installed

install: $(VENV)/.installed $(CVENV)/.installed

$(UV):
	@test -x $(PY) || "$$(scripts/find-python310)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: requirements/rasa.txt pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(PY) -r requirements/rasa.txt
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $@

$(CVENV)/.installed: requirements/connector.txt pyproject.toml | $(UV)
	@test -x $(CPY) || $(UV) venv --quiet --python "$$(scripts/find-python-connector)" $(CVENV)
	$(UV) pip install --quiet --python $(CPY) -r requirements/connector.txt
	$(UV) pip install --quiet --python $(CPY) --no-deps -e .
	touch $@

# Rewrites the lock files from requirements/*.in (then run `make test`).
lock: | $(UV)
	$(UV) pip compile --quiet --no-header requirements/rasa.in --python-version 3.10 \
	  --python-platform x86_64-manylinux_2_28 -o requirements/rasa.txt
	$(UV) pip compile --quiet --no-header requirements/connector.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o requirements/connector.txt

clean:
	rm -rf $(VENV) $(CVENV) models handoff.db*
