//! The files operators copy: Envoy examples (validated by Envoy, and run),
//! docker-compose.yaml (checked against the Makefile and envoy/envoy.yaml, and
//! its container layout validated by the same Envoy version), the Istio
//! WasmPlugin (its pluginConfig through the plugin's own validation and a real
//! Envoy), and the OCI image `make image` builds (taken apart as Istio does).

use crate::common;

use common::envoy::{Envoy, Scratch};
use common::examples::{self, envoy_validate, start_example, ENVOY_EXAMPLES};
use common::http::Request;
use common::tls::TestCert;
use common::upstream::Upstream;
use cors_core::config_source;
use cors_core::Config;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn yaml(file: &str) -> Value {
    let text = fs::read_to_string(common::root().join(file)).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `NAME ?= value` (or `:=`) from the Makefile.
fn makefile_var(name: &str) -> String {
    let makefile = fs::read_to_string(common::root().join("Makefile")).unwrap();
    makefile
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            let key = key.trim_end_matches(['?', ':', ' ']);
            (key == name).then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| panic!("Makefile has no {name}"))
}

mod compose;
mod envoy_examples;
mod gateway;
mod istio;
mod scripts;
mod tls;
