# The README's two commands: `make demo` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test test-e2e test-journeys test-provision bench mutants bundle lint typecheck screenshots clean

setup:
	@scripts/setup.sh

demo: setup
	$(PY) scripts/demo.py $(DEMO_ARGS)

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

# the slow tier (real processes end to end, also run by CI): scripts/test-e2e.sh runs the
# deploy's VM tier (a fresh Bookworm under qemu: first deploy, no-change re-run) alongside the
# unit/integration/lab and desktop slow tests.
test-e2e: setup
	@scripts/test-e2e.sh $(PYTEST_ARGS)

# the journeys tier (also run by CI): the product used as a person uses it: the docs' commands
# run as written against a demo, every subcommand, the demo from a fresh clone in a 0700 home,
# real windows under Xvfb, alarm quality on a loaded host (tests/journeys)
test-journeys: setup
	$(PY) -m pytest -q -o addopts="-p no:cacheprovider" tests/journeys $(PYTEST_ARGS)

# the wizard's VM runs (root and qemu; about 45 min, not in CI): the Qt wizard and the bundled
# desktop (`make bundle`) each provision a fresh VM of their own
test-provision: setup
	$(PY) -m pytest -q -m slow tests/provision/test_wizard_vm.py $(PYTEST_ARGS)

bench: setup
	$(PY) -m tests.bench

# mutation testing of the critical modules (mutmut; about an hour for all of them; not in CI):
# a table per module and every surviving mutant (docs/testing.md says how to read it);
# `make mutants MUTANTS_ARGS="'server_agent.auth.*'"` checks only the matching mutants
mutants: setup
	$(PY) scripts/mutants.py $(MUTANTS_ARGS)

# one-dir PyInstaller bundle of the desktop in dist/flypack-desktop (its size is printed)
bundle: setup
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/flypack-desktop.spec
	@du -sh dist/flypack-desktop | awk '{print "bundle size: " $$1 " (dist/flypack-desktop)"}'

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info
