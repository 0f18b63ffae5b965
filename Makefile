# FieldSync: `make demo` and `make test` do everything on a fresh Debian machine.
SHELL := /bin/bash
SWIFT ?= swift
DEBIAN_PACKAGES := libsqlite3-dev pkg-config sqlite3 libmicrohttpd-dev libgnutls28-dev libqrencode-dev libargon2-dev openssl curl
# What only the tests need beyond the build: the browser the console's test drives, and zbarimg.
TEST_DEBIAN_PACKAGES := chromium zbar-tools
CONFIG ?= debug

.PHONY: all deps apt-install browser-deps build release test demo bench bench-district sim soak fuzz clean

all: build

# Install the Debian packages the build links against, when missing.
# As root this runs apt-get; otherwise it prints the exact command and stops.
deps:
	@command -v $(SWIFT) >/dev/null || { echo "error: no Swift toolchain on PATH; install Swift 6 from swift.org (the build needs swift 6.0 or newer)"; exit 1; }
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEBIAN_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "error: missing Debian packages:$$missing"; \
	    echo "run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

# The browser test's needs: Debian's chromium and zbar-tools, and Playwright for Python (from
# PyPI, pinned), which drives that chromium; no browser is downloaded.
PLAYWRIGHT_VERSION := 1.65.3
browser-deps: deps
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_DEBIAN_PACKAGES)"
	@python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("playwright") != "$(PLAYWRIGHT_VERSION)")' 2>/dev/null || \
	  { echo "installing playwright $(PLAYWRIGHT_VERSION) for Python"; \
	    python3 -m pip install --quiet --disable-pip-version-check "playwright==$(PLAYWRIGHT_VERSION)" || \
	    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "playwright==$(PLAYWRIGHT_VERSION)"; }

release: deps
	$(SWIFT) build -c release

# The whole test suite (property tests included). FIELDSYNC_SEED=N reruns one seed;
# FIELDSYNC_CASES=N changes how many property cases run.
# Two phases: first every test but the long CPU-bound seeded suites, so that servers, real
# processes and network timeouts run on a quiet machine; then those suites, in parallel.
# Together the two phases run every test; none is skipped.
LONG_SUITES := \.(ConvergencePropertyTests|DomainPropertyTests|SimulationTests|FuzzTests|CrashRestartTests|DistrictCSVTests)/
test: deps browser-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --skip '$(LONG_SUITES)'
	python3 Tests/Browser/console_test.py $$($(SWIFT) build --show-bin-path)/fieldsync .build/console-test
	python3 clients/python/test_client.py $$($(SWIFT) build --show-bin-path)/fieldsync
	$(SWIFT) test --skip-build --parallel --filter '$(LONG_SUITES)'

demo: deps
	$(SWIFT) build --product fieldsync
	$$($(SWIFT) build --show-bin-path)/fieldsync demo

# The named benchmarks (BENCH=..., all when empty), each next to plain SQLite in the same run;
# without BENCH, then a 134-cell district through a real node (fieldsync-bench district) and the
# operators' console's API calls on it (fieldsync-bench console).
bench: release
	$$($(SWIFT) build -c release --show-bin-path)/fieldsync-bench $(BENCH)
	@[ -n "$(BENCH)" ] || $$($(SWIFT) build -c release --show-bin-path)/fieldsync-bench district --cells 134
	@[ -n "$(BENCH)" ] || $$($(SWIFT) build -c release --show-bin-path)/fieldsync-bench console --cells 134

# The reference district: 1,344 cells of 300 doorplates (about 800,000 records), 64 clients
# (a few minutes; about 3 GB of temporary files); then the console's API calls on such a district.
bench-district: release
	$$($(SWIFT) build -c release --show-bin-path)/fieldsync-bench district --cells 1344 --clients 64
	$$($(SWIFT) build -c release --show-bin-path)/fieldsync-bench console --cells 1344 --calls 10

# Long runs: many more property cases, fuzz inputs and crash rounds than `make test`, then
# thousands of simulation seeds (a few hours on 2 cores).
# (Release tests need -enable-testing for @testable imports.)
soak: deps
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing
	FIELDSYNC_CASES=$${FIELDSYNC_CASES:-20000} FIELDSYNC_FUZZ_ITERATIONS=$${FIELDSYNC_FUZZ_ITERATIONS:-20000} \
	FIELDSYNC_CRASH_ROUNDS=$${FIELDSYNC_CRASH_ROUNDS:-60} FIELDSYNC_CRASH_OPS=$${FIELDSYNC_CRASH_OPS:-5000} FIELDSYNC_STOP_CYCLES=$${FIELDSYNC_STOP_CYCLES:-5000} \
	  $(SWIFT) test -c release --skip-build -Xswiftc -enable-testing --parallel
	$$($(SWIFT) build -c release --show-bin-path)/fieldsync-sim --seed 100000 --seeds $${SIM_SOAK_SEEDS:-4000}

# The deterministic simulation (Design.md, "Simulation"), release build: SIM_SEEDS seeds from
# SIM_SEED on; prints how many ran clean, and `fieldsync-sim --seed N` for any that did not.
SIM_SEED ?= 1
SIM_SEEDS ?= 1000
sim: deps
	$(SWIFT) build -c release --product fieldsync-sim
	$$($(SWIFT) build -c release --show-bin-path)/fieldsync-sim --seed $(SIM_SEED) --seeds $(SIM_SEEDS)

# Coverage-guided fuzzing with libFuzzer and AddressSanitizer (the toolchain's -sanitize=fuzzer)
# of the parsers in Sources/FuzzChecks, seeded from Fixtures/fuzz/TARGET: every target in turn,
# or FUZZ_TARGET=doorplate.qr; FUZZ_SECONDS each. The corpus grows in .build/fuzz/corpus; a
# finding is saved in .build/fuzz/findings and replays with `fieldsync-fuzz TARGET FILE`.
FUZZ_TARGET ?= all
FUZZ_SECONDS ?= 60
FUZZ_BUILD := $(SWIFT) build -c release --scratch-path .build/libfuzzer --sanitize fuzzer --sanitize address -Xswiftc -DFIELDSYNC_LIBFUZZER
fuzz: deps
	$(FUZZ_BUILD) --product fieldsync-fuzz
	@bin=$$($(FUZZ_BUILD) --show-bin-path)/fieldsync-fuzz; \
	targets="$(FUZZ_TARGET)"; [ "$$targets" = all ] && targets=$$(ls Fixtures/fuzz); \
	for t in $$targets; do \
	  mkdir -p .build/fuzz/corpus/$$t .build/fuzz/findings; \
	  echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
	  SWIFT_BACKTRACE=enable=no FIELDSYNC_FUZZ_TARGET=$$t $$bin -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=4096 -max_len=65536 \
	    -artifact_prefix=.build/fuzz/findings/$$t- -print_final_stats=1 .build/fuzz/corpus/$$t Fixtures/fuzz/$$t 2>&1 \
	    | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|fieldsync-fuzz|SUMMARY|artifact_prefix|Test unit written)' ; \
	  [ $${PIPESTATUS[0]} = 0 ] || { echo "fuzz $$t: finding saved under .build/fuzz/findings (replay: fieldsync-fuzz $$t FILE)"; exit 1; }; \
	done

clean:
	rm -rf .build
