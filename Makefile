# Business ID: the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TRANSLATIONS := idp/translations
# The built-in connectors keep their own catalogues, as any connector package would.
CONNECTORS := connectors/multifon connectors/iptel
# The demo relying party (the virtual PBX portal) has its own catalogue too.
PORTAL := examples/pbx_portal
SMSC := tests/peers/smsc
OPENID_CLIENT := tests/peers/openid-client
HOST ?= 127.0.0.1
PORT ?= 5000
PBX_PORT ?= 5001

.PHONY: run registrar test chromium lint mypy-baseline translations compile-translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,examples]"
	touch $(STAMP)

# The tests' SMSC: node-smpp's server, installed from the npm registry by its lock file.
$(SMSC)/node_modules/.installed: $(SMSC)/package-lock.json
	cd $(SMSC) && npm ci --silent --no-audit --no-fund
	touch $@

# The tests' foreign relying party: the certified openid-client package, installed by its lock file.
$(OPENID_CLIENT)/node_modules/.installed: $(OPENID_CLIENT)/package-lock.json
	cd $(OPENID_CLIENT) && npm ci --silent --no-audit --no-fund
	touch $@

compile-translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d $(TRANSLATIONS) -D messages --statistics 2>&1 | grep -v "^$$" || true
	for connector in $(CONNECTORS); do \
		$(BIN)/pybabel compile --use-fuzzy -d $$connector/translations -D messages --statistics 2>&1 \
			| grep -v "^$$" || true; \
	done
	$(BIN)/pybabel compile --use-fuzzy -d $(PORTAL)/translations -D messages --statistics 2>&1 \
		| grep -v "^$$" || true

## Run the product on its embedded default: SQLite, development outbox, demo data, and beside it
## the demo relying party (examples/pbx_portal, the virtual PBX portal) at http://127.0.0.1:$(PBX_PORT).
# E-mail links are built from the issuer: point them at the server this starts.
run: export IDP_ISSUER ?= http://$(HOST):$(PORT)
run: export IDP_DEMO_RP_URL ?= http://127.0.0.1:$(PBX_PORT)
# The SIP registrar's database and control socket, for `make registrar` beside it.
REGISTRAR_URL ?= sqlite:///$(CURDIR)/instance/registrar.sqlite3
REGISTRAR_RPC ?= unix:$(CURDIR)/instance/kamailio/kamailio_rpc.sock
run registrar: export IDP_REGISTRAR_DATABASE_URL ?= $(REGISTRAR_URL)
run registrar: export IDP_REGISTRAR_RPC ?= $(REGISTRAR_RPC)
run registrar: export IDP_IPTEL_SIP_SERVER ?= 127.0.0.1
run: compile-translations
	$(BIN)/idp db upgrade
	$(BIN)/idp keys ensure
	$(BIN)/idp demo
	PBX_URL=$(IDP_DEMO_RP_URL) $(BIN)/python -m examples.pbx_portal & portal=$$!; \
	trap 'kill $$portal 2>/dev/null' EXIT INT TERM; \
	IDP_WORKER_IN_PROCESS=$${IDP_WORKER_IN_PROCESS:-true} $(BIN)/idp run --host $(HOST) --port $(PORT)

## Run Kamailio (apt-get install -y kamailio kamailio-sqlite-modules) on udp 127.0.0.1:5060 with the
## shipped deploy/kamailio/kamailio.cfg, on the registrar database `make run` keeps in step.
registrar: $(STAMP)
	$(BIN)/idp db upgrade
	$(BIN)/idp registrar run

## Run the checks of `make lint`, then the whole test suite (SQLite; PostgreSQL and Redis too when
## IDP_TEST_* are set) with line and branch coverage, failing under the floor of pyproject.toml.
## A part of the suite: `make test PYTEST_ARGS=tests/otp COV_ARGS=` (the floor is the whole suite's).
COV_ARGS ?= --cov --cov-report=term:skip-covered
test: chromium lint compile-translations $(SMSC)/node_modules/.installed $(OPENID_CLIENT)/node_modules/.installed
	$(BIN)/pytest -n auto --maxprocesses=4 --durations=15 $(COV_ARGS) $(PYTEST_ARGS)

# The browser journeys drive Debian's Chromium (never a downloaded one): stop at once, in one line,
# on a machine without it, instead of failing every journey at its fixture minutes later.
CHROMIUM := $(or $(IDP_TEST_CHROMIUM),/usr/bin/chromium)
chromium:
	@$(if $(wildcard $(CHROMIUM)),,$(error Chromium is not installed at $(CHROMIUM): run 'apt-get install -y chromium' as root (or set IDP_TEST_CHROMIUM); the browser journeys need it)) true

# mypy is strict on the modules of [[tool.mypy.overrides]] (pyproject.toml), whose errors are never
# baselined; any other module's errors must be in mypy-baseline.txt. A new error fails, and so does
# a fixed one until `make mypy-baseline` takes it out: the baseline only shrinks.
LINT_PATHS := idp connectors ui tests examples benchmarks migrations
MYPY_STRICT := ^idp/(config|connectors/sdk|connectors/contract|sessions/flows|(.+/)?services)\.py:
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	@! grep -E '$(MYPY_STRICT)' mypy-baseline.txt || { echo "strict modules in mypy-baseline.txt"; exit 1; }
	$(BIN)/mypy --no-error-summary | $(BIN)/mypy-baseline filter --no-colors
	PYTHONPATH=tests/example_connector $(BIN)/lint-imports

## Rewrite mypy-baseline.txt with today's mypy errors, the strict modules' left out (they must be 0).
mypy-baseline: $(STAMP)
	$(BIN)/mypy --no-error-summary | grep -Ev '$(MYPY_STRICT)' | $(BIN)/mypy-baseline sync --sort-baseline

## Re-extract the messages and merge them into the uk and ru catalogues (the core's, each connector's
## and the demo portal's).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching
	for connector in $(CONNECTORS); do \
		$(BIN)/pybabel extract -F $$connector/babel.cfg -k _l -k lazy_gettext --no-location \
			--sort-output -o $$connector/translations/messages.pot $$connector && \
		$(BIN)/pybabel update -i $$connector/translations/messages.pot -d $$connector/translations \
			--no-fuzzy-matching || exit 1; \
	done
	$(BIN)/pybabel extract -F $(PORTAL)/babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o $(PORTAL)/translations/messages.pot $(PORTAL)
	$(BIN)/pybabel update -i $(PORTAL)/translations/messages.pot -d $(PORTAL)/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance test-artifacts $(SMSC)/node_modules $(OPENID_CLIENT)/node_modules
