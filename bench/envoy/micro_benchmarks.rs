//! The core micro-benchmarks' last results (`make bench-core`), which the
//! report shows next to the Envoy measures.

use crate::common;
use serde_json::Value;
use std::fs;

/// Criterion's estimates from bench/core: (name, median, low, high) in ns.
pub(crate) fn micro_benchmarks() -> Vec<(String, f64, f64, f64)> {
    let dir = common::root().join("bench/core/target/criterion");
    let mut found: Vec<(String, f64, f64, f64)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let new = entry.path().join("new");
            let title: Value =
                serde_json::from_slice(&fs::read(new.join("benchmark.json")).ok()?).ok()?;
            let estimates: Value =
                serde_json::from_slice(&fs::read(new.join("estimates.json")).ok()?).ok()?;
            let median = &estimates["median"];
            Some((
                title["title"].as_str()?.to_string(),
                median["point_estimate"].as_f64()?,
                median["confidence_interval"]["lower_bound"].as_f64()?,
                median["confidence_interval"]["upper_bound"].as_f64()?,
            ))
        })
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1));
    found
}
