# canal-rs: the two commands a fresh machine needs are `make run` and `make test` (README.md).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TARGET_DIR ?= $(HOME)/.cache/canal-rs/target
CONF ?= conf
FUZZ_SECONDS ?= 30
# The sandbox address the shipped conf points at: `make run` starts MariaDB only when it is still there.
SANDBOX_SOURCE := 127.0.0.1:3307

.PHONY: all build run test fuzz-short sandbox-up sandbox-down mysql9-up mysql9-down deps test-deps clean-sandbox help

all: build

help:
	@echo "make run         install what is missing, build, start the sandbox MariaDB if conf/ points at it, run canal-server --conf $(CONF)"
	@echo "make test        install test needs, start sandboxes, fmt/clippy/tests/python/sandbox/fuzz, stop sandboxes"
	@echo "make fuzz-short  run every fuzz target for FUZZ_SECONDS (default 30) seconds"
	@echo "make sandbox-up / sandbox-down   start/stop MariaDB (:3307) and ZooKeeper (:2181)"
	@echo "make mysql9-up / mysql9-down     start/stop MySQL 9.7 in the cached sid chroot (:3308)"

deps:
	@scripts/ensure-build-deps.sh

test-deps: deps
	@scripts/install-test-deps.sh

build: deps
	cargo build --release -p canal-cli --bins

run: build
	@if grep -Eq '^[[:space:]]*canal\.instance\.master\.address[[:space:]]*=[[:space:]]*$(SANDBOX_SOURCE)[[:space:]]*$$' $(CONF)/*/instance.properties 2>/dev/null; then \
	    echo "conf points at the sandbox $(SANDBOX_SOURCE): starting it"; \
	    MARIADB_EXTRA_OPTS= scripts/start-mariadb.sh; \
	fi
	exec $(CARGO_TARGET_DIR)/release/canal-server --conf $(CONF)

test:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/make-test.sh

fuzz-short: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

sandbox-up:
	@scripts/start-mariadb.sh
	@scripts/start-zk.sh

sandbox-down:
	@scripts/stop-mariadb.sh
	@scripts/stop-zk.sh

mysql9-up:
	@scripts/start-mysql9.sh

mysql9-down:
	@scripts/stop-mysql9.sh

clean-sandbox:
	@scripts/stop-mariadb.sh --purge
	@scripts/stop-zk.sh --all --purge
	@scripts/stop-mysql9.sh --purge

# Benchmarks (issue 8; docs/benchmarks.md): end-to-end vs peers, then short criterion runs.
.PHONY: bench bench-e2e bench-micro
bench: bench-e2e bench-micro

bench-e2e: deps
	@scripts/bench-e2e

bench-micro: deps
	@BENCH_MICRO_SECS=$${BENCH_MICRO_SECS:-2} benches/run-micro.sh
