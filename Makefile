# e-Station. `make run` starts the demo station, `make test` runs the whole suite.
# Both set everything up first (Debian packages, .venv); see hardware/scripts/dev-setup.sh.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test bench clean

# Idempotent: about a second when everything is already in place.
setup:
	bash hardware/scripts/dev-setup.sh

run: setup
	$(PY) -m kiosk demo

test: setup
	$(PY) -m pytest -p no:cacheprovider

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
