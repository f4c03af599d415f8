# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lock bench scale-demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The exact versions CI tested (requirements.lock: runtime, postgres and test
# extras), then partnerbot itself without re-resolving anything.
$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Re-resolve requirements.lock from pyproject.toml after adding or changing a
# dependency (pins that still fit are kept; `make lock LOCK_ARGS=--upgrade`
# moves everything to the newest versions). Then `make test`, commit both files.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet $(LOCK_ARGS) --extra test --extra postgres --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

run: $(STAMP)
	$(BIN)/partnerbot run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

bench: $(STAMP)
	$(BIN)/python bench/run.py

scale-demo: $(STAMP)
	$(BIN)/python bench/scale_demo.py
