# derivcheck: `make run` checks the seed question's formulas and writes a derivation
# sheet; `make test` runs the whole test suite. Each creates the virtual environment
# it needs (.venv) and, where it can, installs TeX Live for the PDF parts.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast bench examples tex venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q 'torch==2.13.0' || $(PIP) install -q 'torch>=2.2'
	$(PIP) install -q -e '.[test,torch,jax]'
	touch $(STAMP)

venv: $(STAMP)

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

test: venv tex
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: venv
	$(PY) -m pytest -q -x -m "not slow" -p no:cacheprovider

bench: venv
	$(PY) benchmarks/run.py

examples: venv tex
	$(PY) examples/regenerate.py

clean:
	rm -rf $(VENV) out build *.egg-info
