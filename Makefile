# derivcheck: `make run` checks the seed question's formulas and writes a derivation
# sheet; `make test` runs the whole test suite. Each creates the virtual environment
# it needs (.venv) and, where it can, installs TeX Live for the PDF parts.
# `make run` installs derivcheck alone (no PyTorch); `make test` adds the test and
# torch extras. Each install is a stamp in .venv.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
BASE   := $(VENV)/.installed-base
FULL   := $(VENV)/.installed-test

.PHONY: run test test-fast bench examples tex venv venv-test clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Plain installs (an editable one of this layout makes setuptools print a notice),
# redone when the sources change; `python -m pytest` imports the checkout itself.
SOURCES := $(wildcard derivcheck/*.py derivcheck/*/*.py derivcheck/*/*.lark \
             derivcheck/*/*.json derivcheck/*/*.toml templates/*.tex)

$(BASE): pyproject.toml $(SOURCES) | $(VENV)/bin/python
	$(PIP) install -q .
	touch $(BASE)

# torch from the pinned local build first: a plain `torch` would download the CUDA one.
$(FULL): $(BASE)
	$(PIP) install -q 'torch==2.13.0' || $(PIP) install -q 'torch>=2.2'
	$(PIP) install -q '.[test,torch]'
	touch $(FULL)

venv: $(BASE)

venv-test: $(FULL)

# TeX Live and poppler (pdflatex, pdftotext, pdftoppm) from Debian, when missing.
tex:
	@command -v pdflatex >/dev/null && command -v pdftotext >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends texlive-latex-base texlive-latex-recommended \
	      texlive-pictures texlive-fonts-recommended lmodern poppler-utils >/dev/null; \
	  else echo "pdflatex missing: install TeX Live (texlive-latex-recommended, texlive-pictures, poppler-utils)"; exit 1; fi; }

run: venv tex
	$(VENV)/bin/derivcheck run examples/seed_003.toml --out out

test: venv-test tex
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: venv-test
	$(PY) -m pytest -q -x -m "not slow" -p no:cacheprovider

bench: venv-test
	$(PY) benchmarks/run.py

examples: venv-test tex
	$(PY) examples/regenerate.py

clean:
	rm -rf $(VENV) out build dist *.egg-info
