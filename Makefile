# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test test-fast lint lint-web test-web web-api format bench operator kind-e2e helm clean

help:
	@echo "make run       start the platform (embedded PostgreSQL unless DATABASE_URL is set)"
	@echo "make test      install what is needed and run the whole suite against real PostgreSQL"
	@echo "make lint      ruff, mypy --strict, import boundaries, dead code, and the web UI (ESLint, tsc, API types)"
	@echo "make bench     load benchmark on loopback; writes docs/performance.md"
	@echo "make operator  run the kopf operator against the current kubeconfig"
	@echo "make kind-e2e  end-to-end on a kind cluster (needs a Docker engine)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,operator]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/platform-run

test: $(STAMP) test-web
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The web UI's unit tests (vitest); its browser tests are in tests/web and run with pytest.
test-web: $(STAMP)
	$(BIN)/python scripts/web_checks.py test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services operator tests
	$(BIN)/lint-imports
	$(BIN)/vulture
	$(MAKE) lint-web

# The UI's OpenAPI specs and generated client types match the services; ESLint; tsc --noEmit.
lint-web: $(STAMP)
	$(BIN)/python scripts/dump_openapi.py --check
	$(BIN)/python scripts/web_checks.py lint

# After a change to a service's API: refresh web/openapi/*.json and web/src/api/*.ts.
web-api: $(STAMP)
	$(BIN)/python scripts/dump_openapi.py
	$(BIN)/python scripts/web_checks.py generate

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Installs wrk with apt-get if it is missing (bench/wrk.py); BENCH_ARGS="--help" lists options.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

operator: $(STAMP)
	@test -n "$$PLATFORM_INTEGRATION_KEY" -a -n "$$PLATFORM_API_TOKEN" || { echo "set PLATFORM_INTEGRATION_KEY (a generic integration key) and PLATFORM_API_TOKEN (a responder token); other settings: operator/incident_operator/settings.py" >&2; exit 2; }
	$(BIN)/kopf run --standalone --all-namespaces --liveness=http://127.0.0.1:8090/healthz \
		-m incident_operator.main

kind-e2e:
	bash scripts/kind-e2e.sh

helm: .tools/bin/helm
.tools/bin/helm:
	bash scripts/fetch-helm.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
