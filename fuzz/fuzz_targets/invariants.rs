// Each target uses part of this module.
#![allow(dead_code)]

//! Shared by the fuzz targets: the crate's invariants (one definition, also
//! used by the property tests), turned into panics that libFuzzer reports as
//! crashes with their input, and a raw request head parsed as Envoy does.

use cors_core::request::RequestHead;
use cors_core::invariants;
use cors_core::{Config, Policy};

pub fn check_decision(config: &Config, request: &RequestHead<'_>) {
    if let Err(broken) = invariants::check_decision(config, request) {
        panic!("{broken}: {request:?}");
    }
}

pub fn check_policy(policy: &Policy, text: &[u8]) {
    if let Err(broken) = invariants::check_policy(policy, text) {
        panic!("{broken}");
    }
}

/// A raw request head as Envoy hands its headers over (one definition, in the core).
pub use cors_core::invariants::parse_raw_head;
