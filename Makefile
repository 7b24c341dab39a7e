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
# tests/provision boots a fresh Bookworm VM under qemu (design §5b) and deploys it: the first
# deploy (~23 min under TCG here) and a no-change re-run (~7 min). The wizard's walk of the VM
# (a third run, ~7 min) and the frozen desktop's run (its SSH connection drops at the netplan
# switch, open in issue 9) are left to `make test-provision` to keep CI inside its hour.
test-e2e: setup
	$(PY) -m pytest -q -m slow tests/unit tests/integration tests/lab $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -q -m slow tests/e2e $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -q -m slow tests/provision/test_deploy_vm.py $(PYTEST_ARGS)

# every VM test, the wizard's and the bundled desktop's included (root, qemu; about 45 min)
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
