# Citizen Helpline: `make run` and `make test` bootstrap everything they need, idempotently.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run test bootstrap chat bench bench-nlu clean help

help:
	@echo "make run    start the helpline with the settings in config.yml (SQLite, offline geocoder by default)"
	@echo "make test   run the test suite"
	@echo "make chat   try the resident conversation in this terminal"
	@echo "make bench-nlu   NLU parse latency through the client and the Rasa server's memory"
	@echo "make bench  every benchmark in bench/ in full, one after another (under 20 minutes on 2 CPUs),"
	@echo "            then the figures in docs/performance.md; each alone: $(PY) bench/<name>.py [--quick]"

bootstrap: $(STAMP)

$(STAMP): pyproject.toml
	@scripts/bootstrap.sh "$(VENV)"
	@rm -f $(VENV)/.installed-* && touch $@

run: bootstrap
	@$(VENV)/bin/helpline run

chat: bootstrap
	@$(VENV)/bin/helpline chat

bench-nlu: bootstrap
	@$(PY) bench/nlu_latency.py

BENCHMARKS := nlu_latency conversation_load memory fanout nearby

bench: bootstrap
	@status=0; for name in $(BENCHMARKS); do \
	  if [ -f bench/$$name.py ]; then echo "== bench/$$name.py"; $(PY) bench/$$name.py || status=1; fi; \
	done; $(PY) bench/report.py --write docs/performance.md; exit $$status

test: bootstrap
	@$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
