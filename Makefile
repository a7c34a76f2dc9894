# The two commands: `make demo` and `make test`. Both set everything up.
VENV := .venv
PY := $(VENV)/bin/python
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: demo test install model browser clean

demo: model
	$(PY) scripts/demo.py

test: model browser
	$(PY) -m pytest

browser:
	scripts/install-chromium

model: install
	$(PY) scripts/train_if_changed.py

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt
	@test -x $(PY) || "$$(scripts/find-python310)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25"
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

clean:
	rm -rf $(VENV) models handoff.db*
