# Set-up and everyday commands. Every target creates .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench bench-service bench-peers profile clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: render every template x fixture profile into out/ (open out/index.html)
demo: $(STAMP)
	$(BIN)/renderer gallery --out out

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## bench: per-recipient time of the reference and the fast path, with ratios
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_batch.py

## bench-service: renderer serve --workers 2 under load (60 s, 64 connections, loopback) beside in-process renders
bench-service: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_service.py

## bench-peers: fast path and floor beside the reference path, premailer, python-liquid, Handlebars and react-email (node)
bench-peers: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	if command -v node >/dev/null 2>&1; then npm ci --prefix benchmarks/peers --no-audit --no-fund; \
	else echo "node not found: Handlebars and react-email are left out"; fi
	$(BIN)/python benchmarks/bench_peers.py

## profile: where the fast path's time goes (pyinstrument call tree)
profile: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/profile_fast.py

clean:
	rm -rf $(VENV) out .pytest_cache
