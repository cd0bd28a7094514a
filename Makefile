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
# chromium renders the screen (sim's screen.png) and, with chromium-driver,
# runs the browser tests of the kiosk's page.
# asterisk-core-sounds-en-wav: recorded human English for the ASR evaluation.
APT_PACKAGES := build-essential cmake pkg-config swig python3-venv python3-dev \
	libasound2-dev libspeexdsp-dev libsystemd-dev libsndfile1 \
	espeak-ng sox pulseaudio pulseaudio-utils libasound2-plugins alsa-utils systemd strace \
	chromium chromium-driver asterisk-core-sounds-en-wav

.PHONY: demo test setup lint bench peers bench-peers test-peers soak eval-answers eval-asr clean-setup wheelhouse image image-test image-test-arm64

demo: setup
	@$(BIN)/appliance sim --out out/demo

test: setup
	@$(BIN)/python -m pytest -q

# The tuning half (tests/bench/suite) and the held-back half, reported separately.
bench: setup
	@$(BIN)/appliance bench tests/bench/suite --json out/bench.json --plot out/bench.png
	@$(BIN)/appliance bench tests/bench/held-back --json out/bench-held-back.json --plot out/bench-held-back.png

# The optional peers the bench compares speex with (docs/bench.md), never needed by `make test`:
# WebRTC's AEC3 (aec-audio-processing, no Linux wheel: built from source once into a wheel
# outside the tree, about 3 minutes on 2 cores) and the legacy WebRTC AEC of Debian's
# libwebrtc-audio-processing (C++ only: a small extern "C" shim compiled with g++, portable
# flags, into the venv's lib/ where appliance/listen/aec/webrtc_legacy.py loads it).
AEC3_VERSION := $(shell sed -n 's/^aec-audio-processing==//p' constraints.txt)
AEC3_WHEELS := $(HOME)/.cache/appliance-build/aec-audio-processing-$(AEC3_VERSION)
PEERS_APT := libwebrtc-audio-processing-dev
LEGACY_SHIM := $(VENV)/lib/libappliance_webrtc_legacy.so

peers: $(STAMPS)/peers

$(STAMPS)/peers: constraints.txt tools/peers/webrtc_legacy_shim.cpp $(STAMPS)/venv
	@dpkg-query -W -f='$${Status}' $(PEERS_APT) 2>/dev/null | grep -q "install ok installed" || { \
		echo "peers: installing $(PEERS_APT)"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
			--no-install-recommends $(PEERS_APT) >/dev/null; }
	@if ! ls $(AEC3_WHEELS)/aec_audio_processing-*.whl >/dev/null 2>&1; then \
		echo "peers: building aec-audio-processing $(AEC3_VERSION) (WebRTC AEC3) from source, once;" \
			"about 3 minutes on 2 cores"; \
		partial=$(AEC3_WHEELS).partial.$$$$ && \
		$(PIP) wheel --no-deps --no-cache-dir --no-binary aec-audio-processing \
			aec-audio-processing==$(AEC3_VERSION) -w $$partial && \
		mkdir -p $(AEC3_WHEELS) && mv $$partial/aec_audio_processing-*.whl $(AEC3_WHEELS)/ && \
		rm -rf $$partial; \
	fi
	@$(PIP) install -c constraints.txt --find-links $(AEC3_WHEELS) --only-binary aec-audio-processing \
		aec-audio-processing==$(AEC3_VERSION)
	@echo "peers: compiling the legacy WebRTC AEC shim into $(LEGACY_SHIM)"
	@g++ -O2 -fPIC -shared -std=c++11 $$(pkg-config --cflags webrtc-audio-processing) \
		tools/peers/webrtc_legacy_shim.cpp -o $(LEGACY_SHIM) $$(pkg-config --libs webrtc-audio-processing)
	@touch $@

# Speex and both WebRTC cancellers behind the same VAD and detector, on both halves, in one
# run: out/peers/comparison.md (misses, false stops, latencies, ERLE, CPU per period).
bench-peers: setup peers
	@$(BIN)/python -m appliance.bench.peers --out out/peers tests/bench/suite tests/bench/held-back

# The tests that run the peers' real work (deselected, and counted as such, by `make test`).
test-peers: setup peers
	@$(BIN)/python -m pytest -q --peers -m peers

# The answer evaluation (tests/answers/): accuracy, invented facts, fallbacks and
# first-clause latency on the tuning and the held-back half, through `appliance ask`.
eval-answers: setup
	@$(BIN)/python tests/answers/score.py
	@$(BIN)/python tests/answers/retrieval_methods.py

# Word error rate per recogniser and source, both splits (about 10 minutes on 2 cores).
eval-asr: setup
	@$(BIN)/python -m appliance.evaluation.asr --split tune --json out/eval-asr-tune.json
	@$(BIN)/python -m appliance.evaluation.asr --split held --json out/eval-asr-held.json

# The slow tier's day at the desk: one simulated hour of varied conversation,
# RSS/threads/fds over time in out/soak/soak.json (docs/reliability.md).
soak: setup
	@$(BIN)/appliance sim --soak 1 --out out/soak

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
		partial=$(LLAMA_WHEELS).partial.$$$$ && \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-deps --no-cache-dir \
			--no-binary llama-cpp-python llama-cpp-python==$(LLAMA_CPP_VERSION) -w $$partial && \
		mkdir -p $(LLAMA_WHEELS) && mv $$partial/llama_cpp_python-*.whl $(LLAMA_WHEELS)/ && \
		rm -rf $$partial; \
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

# The Raspberry Pi image (image-build/README.md). The wheelhouse holds the
# appliance wheel and every dependency built for this machine's architecture
# (llama-cpp-python from the cached portable build above); the image installs
# from it with --no-index. Build it on the target architecture: natively on a
# Pi or arm64 machine, or inside an arm64 root under qemu (image-test-arm64).
ARCH := $(shell uname -m)
WHEELHOUSE ?= out/wheelhouse-$(ARCH)
BOARD ?= respeaker-2mic-wm8960
SITE ?= image-build/site-example

wheelhouse: $(STAMPS)/venv
	@mkdir -p $(WHEELHOUSE) && rm -f $(WHEELHOUSE)/*.whl
	@echo "wheelhouse: building the appliance wheel and its pinned dependencies into $(WHEELHOUSE)"
	@$(PIP) wheel -c constraints.txt --find-links $(LLAMA_WHEELS) --only-binary llama-cpp-python \
		-w $(WHEELHOUSE) . 2>&1 | grep -v "^WARNING: Location" || true
	@ls $(WHEELHOUSE)/appliance-*.whl $(WHEELHOUSE)/llama_cpp_python-*.whl >/dev/null

# One line naming what is missing where an arm64 image cannot be built.
DEVICE ?= pi5
image:
	@image-build/build-image BOARD=$(BOARD) SITE=$(SITE) DEVICE=$(DEVICE)

# The install stage on a plain Debian bookworm root, booted read-only (root only;
# about 4-5 minutes, most of it mmdebstrap; .deb files, pip and the llama wheel come from caches).
image-test: wheelhouse
	@$(BIN)/python -m pytest -q -p no:cacheprovider image-build/tests -s --arch amd64 --wheelhouse $(WHEELHOUSE)

image-test-arm64: $(STAMPS)/venv
	@$(BIN)/python -m pytest -q -p no:cacheprovider image-build/tests -s --arch arm64
