//! Did a Wasm VM fail? A panic in the plugin traps its VM; what Envoy then
//! shows depends on the plugin's `failure_policy`, so every sign is checked:
//! - every policy: the request gets a 5xx (`http.<prefix>.downstream_rq_5xx`)
//!   and the log says `Function: proxy_on_... failed: Uncaught RuntimeError`;
//! - `FAIL_CLOSED` (the default): no `wasm.*` stat moves at all, and every later
//!   request gets a 503 too;
//! - `FAIL_RELOAD`: `wasm.<vm_id>.vm_reload_success` (or `_failure`, `_backoff`)
//!   counts the reload. (`wasm.envoy.wasm.runtime.v8.created` grows then too,
//!   but also on every configuration update, so it proves nothing.)
//!
//! `hostile.rs` proves this check catches a VM that really traps.

use super::envoy::Envoy;

/// Log lines only a failing VM writes: a trap, or a Rust panic message.
const FAILURE_LINES: [&str; 2] = ["failed: Uncaught", "panicked at"];

pub struct VmWatch {
    prefix: String,
}

impl VmWatch {
    /// Watches a fresh Envoy; `stat_prefix` is the HTTP connection manager's.
    pub fn start(envoy: &Envoy, stat_prefix: &str) -> VmWatch {
        let watch = VmWatch {
            prefix: stat_prefix.to_string(),
        };
        let before = watch.failures(envoy);
        assert!(
            before.is_empty(),
            "a Wasm VM failed before the test:\n  {}",
            before.join("\n  ")
        );
        watch
    }

    /// Every sign of a failed VM since the baseline, empty when none.
    pub fn failures(&self, envoy: &Envoy) -> Vec<String> {
        let mut found = Vec::new();
        let five_xx = format!("http.{}.downstream_rq_5xx", self.prefix);
        match envoy.stat(&five_xx) {
            Some(0) => {}
            Some(n) => found.push(format!("{five_xx} = {n}")),
            None => found.push(format!("{five_xx} is missing from /stats")),
        }
        for (name, value) in envoy.stats_containing("vm_reload") {
            if value > 0 {
                found.push(format!("{name} = {value}"));
            }
        }
        let log = envoy.log();
        for line in log.lines() {
            if FAILURE_LINES.iter().any(|sign| line.contains(sign)) {
                found.push(format!("log: {line}"));
            }
        }
        found
    }

    pub fn assert_healthy(&self, envoy: &Envoy) {
        let failures = self.failures(envoy);
        assert!(
            failures.is_empty(),
            "a Wasm VM failed:\n  {}",
            failures.join("\n  ")
        );
    }
}
