# The two commands: `make demo` and `make test`. Each sets up what is missing
# (Debian packages, .venv, models) and then runs. A second run installs
# nothing: every step is guarded by a stamp or a cheap check.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .setup-stamps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Build: ALSA, speex, systemd headers for the Python bindings; swig/cmake for
# pocketsphinx and llama.cpp. Run: espeak-ng (caller voices), sox, the
# PulseAudio null-sink loop used as a sound card in tests, alsa-utils (its
# recordings are test speech), systemd (systemd-analyze checks the unit).
APT_PACKAGES := build-essential cmake pkg-config swig python3-venv python3-dev \
	libasound2-dev libspeexdsp-dev libsystemd-dev libsndfile1 \
	espeak-ng sox pulseaudio pulseaudio-utils libasound2-plugins alsa-utils systemd

.PHONY: demo test setup lint bench clean-setup

demo: setup
	@$(BIN)/appliance sim --out out/demo

test: setup
	@$(BIN)/python -m pytest -q

bench: setup
	@$(BIN)/appliance bench tests/bench/suite --json out/bench.json --plot out/bench.png

lint: setup
	@$(BIN)/ruff check appliance tests

setup: $(STAMPS)/apt $(STAMPS)/venv $(STAMPS)/models

$(STAMPS)/apt: Makefile
	@missing=""; for package in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" \
			|| missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "setup: installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: pyproject.toml $(STAMPS)/apt
	@[ -x $(BIN)/python ] || { echo "setup: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || echo "setup: compiling llama.cpp for llama-cpp-python;" \
		"this takes about 5 minutes on 2 cores, once"
	@echo "setup: installing the appliance package and its dependencies into $(VENV)"
	@$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/models: models/manifest.toml $(STAMPS)/venv
	@$(BIN)/appliance models install --tests
	@touch $@

clean-setup:
	rm -rf $(STAMPS) $(VENV)
