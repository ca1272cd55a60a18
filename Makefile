# Two commands do all the set-up: `make run` (serve on embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app FlaskApp/application.py

.PHONY: run uwsgi test fuzz lint audit format bench load mutate bundle deploy-check clean

run: $(VENV)/.run-installed  ## set up what is missing, migrate, serve on 127.0.0.1:$(PORT)
	$(FLASK) db upgrade
	@echo "Serving http://127.0.0.1:$(PORT) (it is up when /health answers; Ctrl-C stops it)"
	@# Ctrl-C or SIGTERM is the normal way to stop: the server ends with 0, not make's error.
	@$(BIN)/python -c 'import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); \
	from flask.cli import main; main()' --app FlaskApp/application.py run --host 127.0.0.1 --port $(PORT)

uwsgi: $(VENV)/.run-installed  ## the same, served by uWSGI with Deploy/uwsgi.ini (as on EC2)
	$(FLASK) db upgrade
	PHOTOS_RELEASE=$(CURDIR) PHOTOS_VENV=$(CURDIR)/$(VENV) DRAIN_SECONDS=0 \
	PHOTOS_RUN_DIR=$(CURDIR)/FlaskApp/instance/run \
	exec Deploy/bin/photos-web --http-socket 127.0.0.1:$(PORT)

test: $(VENV)/.dev-installed tests/oidc/node_modules tests/browser/node_modules  ## every test; leaves no server running
	$(BIN)/python -m pytest $(PYTEST_ARGS)

FUZZ_EXAMPLES ?= 500
fuzz: $(VENV)/.dev-installed  ## schemathesis with FUZZ_EXAMPLES random examples per API operation (minutes)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/web/test_schemathesis.py \
		-s -q -o timeout=0 $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

audit: $(VENV)/.dev-installed  ## pip-audit over requirements.txt's pins and what they pull in
	$(BIN)/python .ci/audit_requirements.py requirements.txt

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

mutate: $(VENV)/.dev-installed tests/oidc/node_modules  ## mutation testing of what guards people's data (about an hour on 2 cores)
	$(BIN)/python tests/mutation/mutate.py

bundle:  ## the release zip in dist/ (LAMBDA=1: also the Lambda label worker's zip)
	Deploy/build_bundle.sh $(if $(LAMBDA),--lambda) dist

deploy-check: $(VENV)/.dev-installed  ## validate the template and scripts before deploying
	$(BIN)/cfn-lint --non-zero-exit-code error Deploy/cloudformation.yaml
	shellcheck userdata.txt $$(find Deploy -name '*.sh') $$(find Deploy/bin -type f 2>/dev/null)
	$(BIN)/python -m pytest tests/deploy -q

# Each bench script prints its figures against bench/figures.json and flags moves over 20 %;
# BENCH_ARGS=--record writes the figures just measured as the new record.
bench: $(VENV)/.dev-installed  ## upload stages; gallery, search, pages/s through uWSGI: SQLite, then MariaDB
	$(BIN)/python bench/bench_images.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_gallery.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_gallery.py --mariadb $(BENCH_ARGS)

# Bulk import (issue 13).
.PHONY: bench-import
bench-import: $(VENV)/.dev-installed  ## import 12 MP JPEGs: photos/s, and the gallery's p95 meanwhile (~2 min; needs nginx)
	$(BIN)/python bench/bench_import.py $(BENCH_IMPORT_ARGS)

load: $(VENV)/.dev-installed  ## 200 uploads at once through nginx + uWSGI: none lost (~1 min; needs nginx, MariaDB)
	$(BIN)/python bench/load_uploads.py $(LOAD_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

tests/oidc/node_modules: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tests/browser/node_modules: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) tests/oidc/node_modules tests/browser/node_modules tests/screenshots .pytest_cache .ruff_cache
