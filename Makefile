# The two set-up commands of the README: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-long docs install bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,docs]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sco-monitor demo

# In parallel (pytest-xdist, one worker per core); `-n 0` runs serially. Exit 5 (no test ran) fails too.
# The long evaluations and soak tests (marker `long`) run in `make test-long`; CI runs both.
test: $(STAMP)
	@$(BIN)/python -m pytest -n auto -m "not long"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no test" >&2; fi; exit $$rc

test-long: $(STAMP)
	@$(BIN)/python -m pytest -n auto -m long; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-long: pytest collected no test" >&2; fi; exit $$rc

# The docs site, built strictly (a broken link, anchor or nav entry fails) into site/.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/pip install -q -e ".[dev,bench]"
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var reports demo replay site
