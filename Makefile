# alukit: build the companion book and run the tests.
#
#   make book                  # the paper profile (params/paper.yaml)
#   make book PROFILE=quick    # minutes on a 2-core machine
#   make test                  # pytest, including the browser check of the quick book
#   make handout               # student notebooks, solutions removed, in handout/ (HANDOUT=DIR)
#   make clean                 # remove built pages, executed notebooks and caches
#
# Both targets first create .venv and install what is missing. torch is installed
# first, explicitly and pinned (torch==2.13.0, a CPU build where the index offers
# one): any other resolution of "torch" can pull gigabytes of CUDA packages.

PROFILE ?= paper
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0

.DEFAULT_GOAL := book
HANDOUT ?= handout
.PHONY: book test clean venv handout

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
		|| $(PY) -m pip install "$(TORCH)"
	$(PY) -m pip install -e ".[book,test]" "$(TORCH)"
	@touch $(STAMP)

book: $(STAMP)
	$(PY) -m alukit book --profile $(PROFILE)

handout: $(STAMP)
	$(PY) -m alukit handout $(HANDOUT)

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf book/_build book/*.ipynb .pytest_cache
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
