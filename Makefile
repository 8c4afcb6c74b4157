# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# mypy finds packages by folder name; build/mypy/onewindow/ names the mapped folders as they are imported
# (onewindow/engine -> engine/ …; see [tool.mypy] in pyproject.toml for why).
MYPY_TREE := build/mypy/onewindow
MAPPED := engine cli worklist processes forms

.PHONY: demo test lint install mypy-tree

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/onewindow demo

mypy-tree:
	mkdir -p $(MYPY_TREE)
	for p in $(MAPPED); do ln -sfn ../../../$$p $(MYPY_TREE)/$$p; done

lint: $(STAMP) mypy-tree
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest
