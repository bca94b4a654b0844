# n2t — two commands: `make serve` (build the whole site and serve it) and `make test` (everything).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export NO_MKDOCS_2_WARNING := 1
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
# Two cores run two labs (or two test workers) at once: one BLAS/OpenMP thread each avoids
# oversubscription, which slows small matrix products down by several times.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: install serve site test test-fast bench bench-site chromium clean

# ---- set-up ---------------------------------------------------------------------------------
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# KaTeX only; Lighthouse (a devDependency, ~120 MB) is installed by `make bench-site` alone.
node_modules/.installed: package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund
	touch $@

node_modules/.bin/lighthouse: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules/.installed $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

install: $(VENV)/.installed node_modules/.installed

# ---- the site ---------------------------------------------------------------------------------
site: install
	$(BIN)/mkdocs build --strict

serve: site
	@echo "serving site/ at http://127.0.0.1:$(PORT)/ (Chinese) and http://127.0.0.1:$(PORT)/en/ (English)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory site $(PORT)

# ---- tests ------------------------------------------------------------------------------------
# Builds the site cold-or-cached (the lab cache key covers the package source), then runs every
# test: gradients, parity, snippets, labs, bad input, the built site in headless Chromium.
test: install chromium site
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not site"

bench: install
	$(BIN)/python benchmarks/run.py

# A report, not a test: Lighthouse (npm devDependency) on three pages of site/, mobile and desktop, and the
# cold and warm build times -> artifacts/lighthouse.md, artifacts/build-times.md.
bench-site: install node_modules/.bin/lighthouse chromium site
	CHROME_PATH=$$(command -v chromium) $(BIN)/python benchmarks/site.py

clean:
	rm -rf site .cache docs/labs artifacts
