# Two commands matter: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app

HTMX_VERSION := 2.0.11
SOCKETIO_VERSION := 4.8.4
AXE_VERSION := 4.11.0
IDIOMORPH_VERSION := 0.8.0

.PHONY: run test lint bench vendor translations catalogs setup browser nginx lock clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# The lock files pin every dependency, transitive ones too, with their hashes: requirements.lock
# what the site needs (make run, the deployment), requirements-dev.lock that and the tests' and
# benchmarks' tools. `make lock` makes both again from pyproject.toml. Reinstall only when they change.
$(VENV)/.installed: requirements.lock | $(BIN)/activate
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock $(VENV)/.installed
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	touch $@

PIP_COMPILE := $(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: | $(BIN)/activate
	$(BIN)/pip install -q pip-tools==7.6.2
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --all-extras --output-file requirements-dev.lock pyproject.toml

setup: $(VENV)/.installed translations

# Compile the gettext catalogs (the .mo files are build output, not committed).
translations: $(VENV)/.installed
	@for dir in translations/*/; do $(BIN)/pybabel -q compile -f -d $$dir || exit 1; done

# Re-extract the messages of each area and update (or start) its four catalogs. Without source
# locations, sorted, and with a fixed creation date, a catalog changes only where a message
# does, so that two branches adding messages rarely touch the same lines.
catalogs: $(VENV)/.installed
	@for dir in translations/*/; do \
		$(BIN)/pybabel -q extract -F $$dir/babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o $$dir/messages.pot . || exit 1; \
		for lang in fi sv en nl; do \
			if [ -f $$dir/$$lang/LC_MESSAGES/messages.po ]; then \
				$(BIN)/pybabel -q update -N --ignore-obsolete -i $$dir/messages.pot -d $$dir -l $$lang || exit 1; \
			else \
				$(BIN)/pybabel -q init -i $$dir/messages.pot -d $$dir -l $$lang || exit 1; \
			fi; \
			sed -i 's/^"POT-Creation-Date: .*"$$/"POT-Creation-Date: 2026-01-01 00:00+0000\\n"/' $$dir/$$lang/LC_MESSAGES/messages.po; \
		done; \
	done

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	DEVELOPMENT=1 EXTERNAL_URL=http://127.0.0.1:$(PORT) $(FLASK) serve --port $(PORT)

browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then \
			(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "The browser tests need Chromium from Debian's packages: run 'sudo apt-get install chromium' and then 'make test' again."; exit 1; \
		fi; }

# The deployment test runs Debian's nginx in front of the web processes (deploy/).
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
		if [ "$$(id -u)" = 0 ]; then \
			(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
		else \
			echo "The deployment test needs nginx from Debian's packages: run 'sudo apt-get install nginx' and then 'make test' again."; exit 1; \
		fi; }

test: setup $(VENV)/.dev-installed browser nginx lint
	$(BIN)/pytest $(PYTEST_ARGS)

# The code's shape: ruff (lint and import order) and mypy (the annotated seams), before the suite.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup $(VENV)/.dev-installed
	@for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Refresh the vendored front-end files from the npm registry.
vendor:
	rm -rf .vendor-tmp && mkdir .vendor-tmp
	cd .vendor-tmp && npm pack -q htmx.org@$(HTMX_VERSION) socket.io-client@$(SOCKETIO_VERSION) axe-core@$(AXE_VERSION) idiomorph@$(IDIOMORPH_VERSION) >/dev/null
	cd .vendor-tmp && for f in *.tgz; do mkdir $${f%.tgz} && tar xzf $$f -C $${f%.tgz}; done
	cp .vendor-tmp/htmx.org-$(HTMX_VERSION)/package/dist/htmx.min.js static/vendor/htmx-$(HTMX_VERSION).min.js
	cp .vendor-tmp/socket.io-client-$(SOCKETIO_VERSION)/package/dist/socket.io.min.js static/vendor/socket.io-$(SOCKETIO_VERSION).min.js
	cp .vendor-tmp/idiomorph-$(IDIOMORPH_VERSION)/package/dist/idiomorph-ext.min.js static/vendor/idiomorph-ext-$(IDIOMORPH_VERSION).min.js
	cp .vendor-tmp/axe-core-$(AXE_VERSION)/package/axe.min.js tests/vendor/axe-core-$(AXE_VERSION).min.js
	rm -rf .vendor-tmp

clean:
	rm -rf $(VENV) .pytest_cache
