# The README's two commands: `make demo` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test test-e2e test-provision bench bundle lint typecheck screenshots clean

setup:
	@scripts/setup.sh

demo: setup
	$(PY) scripts/demo.py $(DEMO_ARGS)

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

# the slow tier (real processes end to end); exit 5 = nothing collected is not a failure.
# The desktop's end-to-end tests get a process of their own: the Qt event loop must not
# share a process with what the integration tests leave behind (threads, loops, engines).
# The VM tier (tests/provision: a fresh Bookworm under qemu, design §5b) is `make
# test-provision`, not part of this target: under TCG here the first deploy takes ~23 min,
# the no-change re-run ~7 and the wizard's walk ~7: CI would end near its hour, not well inside.
test-e2e: setup
	$(PY) -m pytest -q -m slow tests/unit tests/integration tests/lab $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -q -m slow tests/e2e $(PYTEST_ARGS) || [ $$? -eq 5 ]

# the VM tier: first deploy, no-change re-run, the wizard's walk and the frozen desktop's run
# (root and qemu; about 45 min; the frozen desktop's run fails today, see issue 9)
test-provision: setup
	$(PY) -m pytest -q -m slow tests/provision $(PYTEST_ARGS)

bench: setup
	$(PY) -m tests.bench

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
