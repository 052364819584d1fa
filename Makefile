# Every target installs what it needs: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3.11
PORT ?= 8765
ARGS ?=

VENV := .venv
PY := $(VENV)/bin/python
BLENDER_EXT = $(PY) $(firstword $(wildcard $(VENV)/lib/python3.11/site-packages/bpy/*/scripts/addons_core/bl_pkg/cli/blender_ext.py))
# Blender versions the add-on is tested on (bpy from PyPI): the oldest and the newest LTS in
# `make test`, every supported line in `make test-matrix`. 5.2 is a cp313 wheel: it runs in a
# Python 3.13 venv inside the Debian trixie root (tools/bpy_in_root.sh).
MATRIX_VENVS := .venv-4.2 .venv-4.5 .venv
TEST_VENVS := .venv-4.2
INSTALL_VENVS := .venv-4.2 .venv
BPY_52 := tools/bpy_in_root.sh python
PYTEST := -m pytest -q -p no:randomly

.PHONY: help setup lint typecheck unit blender-tests build release validate install-test test test-matrix \
        test-gui blender-roots demo emulator bench bench-window clean

help:
	@echo "make demo | test | test-matrix | build | release | emulator PORT=8765 ARGS='...' | bench | clean"

# --- environments -------------------------------------------------------------------------
$(VENV)/.stamp: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

.venv-4.2/.stamp: requirements-blender-4.2.txt
	$(PYTHON) -m venv .venv-4.2
	.venv-4.2/bin/pip install -q --disable-pip-version-check -r requirements-blender-4.2.txt
	touch $@

.venv-4.5/.stamp: requirements-blender-4.5.txt
	$(PYTHON) -m venv .venv-4.5
	.venv-4.5/bin/pip install -q --disable-pip-version-check -r requirements-blender-4.5.txt
	touch $@

.venv-types-%/.stamp: requirements-types-%.txt
	$(PYTHON) -m venv .venv-types-$*
	.venv-types-$*/bin/pip install -q --disable-pip-version-check -r requirements-types-$*.txt
	touch $@

setup: $(VENV)/.stamp

# --- checks -------------------------------------------------------------------------------
.pkgroot/scenario_texture_upscale:
	mkdir -p .pkgroot && ln -sfn .. $@

lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check .

# The stubs of Blender's development line live in .venv; those of 4.2 LTS and 5.2 LTS, the
# oldest and the newest release supported, in venvs of their own.
typecheck: $(VENV)/.stamp .venv-types-4.2/.stamp .venv-types-5.2/.stamp .pkgroot/scenario_texture_upscale
	$(VENV)/bin/mypy
	@# The 4.2 stubs say bpy.props.*, UILayout.panel and a few more return None (pyproject.toml).
	.venv-types-4.2/bin/mypy --python-executable .venv-types-4.2/bin/python --disable-error-code func-returns-value
	.venv-types-5.2/bin/mypy --python-executable .venv-types-5.2/bin/python

unit: $(VENV)/.stamp
	$(PY) $(PYTEST) tests/unit tests/emulator tests/integration

# Real Blender (bpy from PyPI), the add-on enabled from this tree, the emulator in its own process.
blender-tests: $(VENV)/.stamp $(addsuffix /.stamp,$(TEST_VENVS))
	@set -e; for v in $(TEST_VENVS); do \
	  echo "== real-Blender tests on $$v"; \
	  EMULATOR_PYTHON=$(abspath $(PY)) $$v/bin/python $(PYTEST) tests/blender; \
	done
	@echo "== real-Blender tests on bpy 5.2 (Python 3.13)"
	$(BPY_52) $(PYTEST) tests/blender

validate: $(VENV)/.stamp
	$(BLENDER_EXT) validate .

build: $(VENV)/.stamp validate
	rm -rf dist && mkdir -p dist
	$(BLENDER_EXT) build --source-dir . --output-dir dist
	@ls -l dist

# A folder any static web server or shared drive can serve as a Blender extension repository:
# the zip, index.json and index.html (README: "Hosting a repository").
release: $(VENV)/.stamp validate
	$(PY) tools/release.py --out release

# Installs the built zip into an isolated Blender user folder, as a user would, on each version,
# and serves `make release`'s repository to Blender (on bpy 4.2 those tests skip: see there).
install-test: build $(addsuffix /.stamp,$(INSTALL_VENVS))
	@set -e; for v in $(INSTALL_VENVS); do \
	  echo "== install test on $$v"; \
	  EMULATOR_PYTHON=$(abspath $(PY)) $$v/bin/python $(PYTEST) tests/install; \
	done
	@echo "== install test on bpy 5.2 (Python 3.13)"
	$(BPY_52) $(PYTEST) tests/install

# Windowed Blender 4.3.2 and 5.2.2 LTS (Debian's, in cached roots; see tools/blender_root.sh) or
# $$BLENDER, each under its own Xvfb, the built zip installed as a user installs it.
blender-roots:
	@if [ -z "$$BLENDER" ]; then tools/blender_root.sh trixie >/dev/null && tools/blender_root.sh sid >/dev/null; fi

test-gui: build blender-roots
	EMULATOR_PYTHON=$(abspath $(PY)) $(PY) $(PYTEST) tests/gui

# Every tier, the windowed one (test-gui) included. Each runs with this run's marker in its
# environment; the recipe then checks that nothing the tiers started (emulator, Xvfb, Blender)
# outlived them.
test: export SCENARIO_TEST_RUN := $(shell $(PYTHON) -c "import uuid; print(uuid.uuid4().hex)")
test: lint typecheck unit blender-tests install-test test-gui
	$(PYTHON) tools/no_leftovers.py

test-matrix: $(VENV)/.stamp $(addsuffix /.stamp,$(MATRIX_VENVS))
	@set -e; for v in $(MATRIX_VENVS); do \
	  echo "== real-Blender tests on $$v"; \
	  EMULATOR_PYTHON=$(abspath $(PY)) $$v/bin/python $(PYTEST) tests/blender; \
	done
	@echo "== real-Blender tests on bpy 5.2 (Python 3.13)"
	$(BPY_52) $(PYTEST) tests/blender

# --- running ------------------------------------------------------------------------------
demo: $(VENV)/.stamp
	$(PY) tools/demo.py

emulator: $(VENV)/.stamp
	$(PY) -m emulator --port $(PORT) $(ARGS)

bench: $(VENV)/.stamp build blender-roots
	$(PY) bench/run.py
	EMULATOR_PYTHON=$(abspath $(PY)) $(PY) bench/windowed.py

bench-window: $(VENV)/.stamp build blender-roots
	EMULATOR_PYTHON=$(abspath $(PY)) $(PY) bench/windowed.py

clean:
	rm -rf dist release build demo-output .pkgroot .mypy_cache .ruff_cache
