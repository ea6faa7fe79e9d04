//! Every test suite that shares `tests/common`: one test binary, so the
//! shared code compiles once and every part of it is used. Each suite is a
//! module; run one with its name as the filter, as the Makefile does:
//!
//!     CORS_FORM=module ENVOY=.venv/envoy-1.40.0/bin/envoy cargo test --test suites -- e2e::
//!
//! The Envoy suites need `ENVOY` (set by `make test`) and run against the form
//! `CORS_FORM` names (`tests/common/form.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod fetch;
mod fixtures;
mod webdriver;

// Envoy with the filter: behaviour, the README's demo, Envoy's own CORS filter.
mod demo;
mod e2e;
mod module_refused;
mod native_differential;
mod per_route;
mod report_mode;
mod scale;
// Robustness.
mod bad_config;
mod fuzz_replay;
mod hostile;
mod soak;
// A real browser.
mod browser;
// What operators use.
mod cors_check;
mod examples;
mod import;
mod observability;
mod schema;
// The release (make release).
mod release;
// The GitHub Actions workflows, linted.
mod workflows;
