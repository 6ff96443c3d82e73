# Two commands matter: `make up` (run the whole stack locally) and `make test` (run every test).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-test

.PHONY: up test install lock messages compile-messages migrate migration backup restore unit integration e2e browser screenshots chaos bench bench-scale compose-config clean

# `make up` installs the runtime dependencies and its local tools (requirements/local.lock);
# `make test` adds the test tools (requirements/dev.lock). Both lock files pin every package,
# transitive ones included, with hashes; `make lock` rewrites them after pyproject.toml changes.
$(RUN_STAMP): pyproject.toml requirements/local.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/local.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements/dev.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	@touch $(STAMP)

LOCK_ARGS := --universal --python-version 3.11 --generate-hashes --no-header --quiet
## Rewrite requirements/*.lock from pyproject.toml (every package pinned, with hashes, for Python 3.11-3.13).
lock: $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lock]'
	$(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) -o requirements/runtime.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) --extra local -o requirements/local.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) --extra local --extra test -o requirements/dev.lock

install: $(STAMP)

# The editor pages' one gettext catalog (shared/translations/, domain "messages"); README "Translations".
I18N := shared/translations
BABEL_EXTRACT := -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --width 100
## Extract every marked string into messages.pot, merge it into each language's .po, compile the .mo files.
messages: $(RUN_STAMP)
	$(BIN)/pybabel extract $(BABEL_EXTRACT) -o $(I18N)/messages.pot .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) --no-fuzzy-matching --ignore-pot-creation-date --width 100
	$(MAKE) compile-messages

## Compile the .po catalogs into the .mo files the apps read (committed; a unit test checks they are current).
compile-messages: $(RUN_STAMP)
	$(BIN)/pybabel compile -d $(I18N) --statistics

## Migrate the databases, start Redis (if none answers), the four web apps, the four workers and beat; load demo content.
up: $(RUN_STAMP)
	$(BIN)/python -m deploy.launcher up

## Bring every service's database to its newest migration (make up does this before starting anything).
migrate: $(RUN_STAMP)
	$(BIN)/python -m deploy.migrate upgrade

## Write the next migration of one service from its models: make migration SERVICE=ingest MESSAGE="add import jobs"
migration: $(RUN_STAMP)
	@test -n "$(SERVICE)" && test -n "$(MESSAGE)" || { echo 'usage: make migration SERVICE=ingest MESSAGE="add import jobs"' >&2; exit 2; }
	$(BIN)/python -m deploy.migrate revision $(SERVICE) -m "$(MESSAGE)"

## Back up every database while running or not (SQLite online backup) into $DATA_DIR/backups/<UTC time>/.
backup: $(RUN_STAMP)
	$(BIN)/python -m deploy.backup backup

## Restore the newest backup, or BACKUP=var/backups/<time>; stop make up first. Migrates it and rebuilds the site.
restore: $(RUN_STAMP)
	$(BIN)/python -m deploy.backup restore $(BACKUP)

## Run the whole test suite: unit, integration (real Redis, workers, HTTP and SMTP servers,
## PostgreSQL), browser, then the chaos tests (worker kills, Redis outage) with their figures.
test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest tests/chaos -s

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser

## Refresh the screenshots of every screen in docs/screenshots (taken by the browser tests).
screenshots: $(STAMP)
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser

## Chaos tests: worker kills and Redis outages on a private stack (a few minutes; prints figures).
chaos: $(STAMP)
	$(BIN)/python -m pytest tests/chaos -s

## Whole-pipeline benchmark with its ceilings (an empty Celery chain, Hugo); N=1000 by default, BENCH_ARGS="--n 100" to size it;
## then the image benchmark (variant generation in images/s, and a republish with an unchanged image making none).
bench: $(STAMP)
	$(BIN)/python bench/pipeline.py $(BENCH_ARGS)
	$(BIN)/python bench/images.py

## Rendering at archive size without the pipeline around it: one publish, the rebuild (against Hugo) and the
## worker's memory in a site of 30,000 pages (N=10000, about 15 minutes); SCALE_ARGS="--n 1000" to size it.
SCALE_ARGS ?= --n 10000
bench-scale: $(STAMP)
	$(BIN)/python bench/site_scale.py $(SCALE_ARGS)

compose-config:
	docker-compose -f docker-compose.yml config -q

clean:
	rm -rf $(VENV) var .pytest_cache
