# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# mypy finds packages by folder name; build/mypy/onewindow/ names the mapped folders as they are imported
# (onewindow/engine -> engine/ …; see [tool.mypy] in pyproject.toml for why).
MYPY_TREE := build/mypy/onewindow
MAPPED := engine cli worklist processes forms

# The worklist's English catalogue: source strings (Chinese) from worklist/ into the .po, then compiled to the
# .mo the app reads. The .mo is committed (and shipped as package data), so a fresh clone needs no compile.
CATALOGUES := worklist/translations

.PHONY: demo test lint install mypy-tree translations element-templates-preview system-packages demo-packages

# Debian packages the project needs beyond Python: WeasyPrint's Pango (and HarfBuzz's subsetter) and the Noto
# CJK fonts the documents are set in, for the demo; for the tests also Debian's Chromium (Playwright's own
# download is not used) with the WenQuanYi font for Chinese screenshots, and poppler to draw PDF pages.
# Installed with apt-get when missing and make runs as root; elsewhere make says what to install and stops.
# Not Debian (no dpkg): nothing is checked, see the README.
DEMO_PACKAGES := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
TEST_PACKAGES := $(DEMO_PACKAGES) chromium fonts-wqy-microhei poppler-utils
define apt_install
	@if command -v dpkg >/dev/null && ! dpkg -s $(1) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	  else echo "missing Debian packages; as root: apt-get install $(1)" >&2; exit 1; fi; \
	fi
endef

demo-packages:
	$(call apt_install,$(DEMO_PACKAGES))

system-packages:
	$(call apt_install,$(TEST_PACKAGES))

# axe-core for the accessibility run of the browser tests (tests/test_browser_a11y.py injects axe.min.js).
# The version is pinned in tests/a11y/package.json; axe-core has no dependencies, so no lockfile is needed.
AXE_DIR := tests/a11y
AXE_STAMP := $(AXE_DIR)/node_modules/.installed

$(AXE_STAMP): $(AXE_DIR)/package.json
	cd $(AXE_DIR) && npm install --no-audit --no-fund --no-package-lock --silent
	touch $(AXE_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(AXE_STAMP)

demo: $(STAMP) demo-packages
	$(BIN)/onewindow demo

translations: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NP_:1c,2 --no-location --sort-output --no-wrap -o build/messages.pot worklist
	$(BIN)/pybabel update -i build/messages.pot -d $(CATALOGUES) --no-wrap --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOGUES) --statistics

mypy-tree:
	mkdir -p $(MYPY_TREE)
	for p in $(MAPPED); do ln -sfn ../../../$$p $(MYPY_TREE)/$$p; done

lint: $(STAMP) mypy-tree
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite runs on every core (pytest-xdist): each test has its own database and folders, and much of the
# time goes to waiting on server processes, Chromium and PostgreSQL. loadgroup keeps the tests that start
# many processes on one worker, one after another (tests/conftest.py, MANY_PROCESSES).
# `$(BIN)/python -m pytest FILE` runs one file in one process.
test: lint $(AXE_STAMP) system-packages
	$(BIN)/python -m pytest -n auto --dist loadgroup

# The README's screenshot of the element templates in bpmn-js (needs node and npm; see docs/element-templates/).
PREVIEW := docs/element-templates
element-templates-preview: $(STAMP)
	cd $(PREVIEW) && npm install --no-audit --no-fund --no-package-lock --silent
	cd $(PREVIEW) && node_modules/.bin/esbuild preview.js --bundle --minify --outfile=build/preview.js
	cd $(PREVIEW) && node_modules/.bin/esbuild styles.css --bundle --outfile=build/preview.css \
		--loader:.woff=dataurl --loader:.woff2=dataurl --loader:.ttf=dataurl --loader:.eot=dataurl --loader:.svg=dataurl
	$(BIN)/python $(PREVIEW)/screenshot.py
