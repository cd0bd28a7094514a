# The two commands: `make demo` and `make test`. Each sets up what is missing
# (Debian packages, .venv, models) and then runs. A second run installs
# nothing: every step is guarded by a stamp or a cheap check.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .setup-stamps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PIP := $(BIN)/pip --quiet --disable-pip-version-check
PIP_VERSION := 26.3

# llama-cpp-python compiles llama.cpp. It is built once per version and flag
# set into a wheel outside the tree (a second clone reuses it) with the
# portable flags of tools/llama-cmake-args, never -march=native; the venv
# installs only that wheel. constraints.txt pins every other package.
LLAMA_CPP_VERSION := $(shell sed -n 's/^llama-cpp-python==//p' constraints.txt)
LLAMA_CMAKE_ARGS := $(shell tools/llama-cmake-args)
LLAMA_WHEELS := $(HOME)/.cache/appliance-build/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell \
	printf '%s' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)

# Build: ALSA, speex, systemd headers for the Python bindings; swig/cmake for
# pocketsphinx and llama.cpp. Run: espeak-ng (caller voices), sox, the
# PulseAudio null-sink loop used as a sound card in tests, alsa-utils (its
# recordings are test speech), systemd (systemd-analyze checks the unit).
# strace watches the offline test for network sockets (C++ code included).
APT_PACKAGES := build-essential cmake pkg-config swig python3-venv python3-dev \
	libasound2-dev libspeexdsp-dev libsystemd-dev libsndfile1 \
	espeak-ng sox pulseaudio pulseaudio-utils libasound2-plugins alsa-utils systemd strace

.PHONY: demo test setup lint bench clean-setup

demo: setup
	@$(BIN)/appliance sim --out out/demo

test: setup
	@$(BIN)/python -m pytest -q

# The tuning half (tests/bench/suite) and the held-back half, reported separately.
bench: setup
	@$(BIN)/appliance bench tests/bench/suite --json out/bench.json --plot out/bench.png
	@$(BIN)/appliance bench tests/bench/held-back --json out/bench-held-back.json --plot out/bench-held-back.png

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

$(STAMPS)/venv: pyproject.toml constraints.txt tools/llama-cmake-args $(STAMPS)/apt
	@[ -x $(BIN)/python ] || { echo "setup: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@$(PIP) install pip==$(PIP_VERSION)
	@if ! ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1; then \
		echo "setup: compiling llama.cpp $(LLAMA_CPP_VERSION) (portable: $(LLAMA_CMAKE_ARGS));" \
			"this takes about 5 minutes on 2 cores, once"; \
		rm -rf $(LLAMA_WHEELS).partial && \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-deps --no-cache-dir \
			--no-binary llama-cpp-python llama-cpp-python==$(LLAMA_CPP_VERSION) \
			-w $(LLAMA_WHEELS).partial && mv $(LLAMA_WHEELS).partial $(LLAMA_WHEELS); \
	fi
	@echo "setup: installing the appliance package and its pinned dependencies into $(VENV)"
	@$(PIP) install -c constraints.txt --find-links $(LLAMA_WHEELS) --only-binary llama-cpp-python \
		-e '.[dev,bench]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/models: models/manifest.toml $(STAMPS)/venv
	@$(BIN)/appliance models install --tests
	@touch $@

clean-setup:
	rm -rf $(STAMPS) $(VENV)
