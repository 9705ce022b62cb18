# alukit: reproduce the study, build the companion book and run the tests.
#
#   make book                      # the paper profile: reads the committed results, trains nothing
#   make book PROFILE=quick        # reproduce the quick profile (cached), then build its book
#   make reproduce                 # the paper profile's full study, both variants, and the sparse-DNN
#                                  # experiment -> results/paper-*/
#   make reproduce PROFILE=quick   # the quick profile's study -> results/quick-*/ (minutes)
#   make test                      # pytest, including the browser check of every chapter
#   make handout                   # student notebooks, solutions removed, in handout/ (HANDOUT=DIR)
#   make clean                     # remove built pages, staged books and caches of the build
#
# Every target first creates .venv and installs what is missing. torch is installed
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
.PHONY: book reproduce test clean venv handout

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
		|| $(PY) -m pip install "$(TORCH)"
	$(PY) -m pip install -e ".[book,test]" "$(TORCH)"
	@touch $(STAMP)

# The paper profile's results are committed: its book only reads them. Any other
# profile's missing or stale results are made first (--reproduce; cached stages).
book: $(STAMP)
	$(PY) -m alukit book --profile $(PROFILE) $(if $(filter paper,$(PROFILE)),,--reproduce)

reproduce: $(STAMP)
	$(PY) -m alukit reproduce --profile $(PROFILE) --variant both
	$(PY) -m alukit sparse-dnn --profile $(PROFILE)

handout: $(STAMP)
	$(PY) -m alukit handout $(HANDOUT)

# --durations: the log lists the slowest tests, to keep CI within its time
test: $(STAMP)
	$(PY) -m pytest -q --durations=25

clean:
	rm -rf book/_build build/book-* .pytest_cache
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
