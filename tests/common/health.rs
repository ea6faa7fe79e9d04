//! Did the filter fail? What that looks like depends on the form:
//!
//! The Wasm plugin: a panic traps its VM; what Envoy then shows depends on the
//! plugin's `failure_policy`, so every sign is checked:
//! - every policy: the request gets a 5xx (`http.<prefix>.downstream_rq_5xx`)
//!   and the log says `Function: proxy_on_... failed: Uncaught RuntimeError`;
//! - `FAIL_CLOSED` (the default): no `wasm.*` stat moves at all, and every later
//!   request gets a 503 too;
//! - `FAIL_RELOAD`: `wasm.<vm_id>.vm_reload_success` (or `_failure`, `_backoff`)
//!   counts the reload. (`wasm.envoy.wasm.runtime.v8.created` grows then too,
//!   but also on every configuration update, so it proves nothing.)
//!
//! The dynamic module: a panic that escaped would kill the Envoy process; one
//! caught by the module's net logs `panic caught` and answers 503. So: the
//! process that started is still running, plus the same 5xx and log checks.
//!
//! `hostile.rs` proves this check catches a filter that really fails, in each form.

use super::envoy::Envoy;

/// Log lines only a failing filter writes: a trap, a Rust panic message, the
/// module's panic net.
const FAILURE_LINES: [&str; 3] = ["failed: Uncaught", "panicked at", "panic caught"];

pub struct Health {
    prefix: String,
}

impl Health {
    /// Watches a fresh Envoy; `stat_prefix` is the HTTP connection manager's.
    pub fn start(envoy: &Envoy, stat_prefix: &str) -> Health {
        let watch = Health {
            prefix: stat_prefix.to_string(),
        };
        let before = watch.failures(envoy);
        assert!(
            before.is_empty(),
            "the filter failed before the test:\n  {}",
            before.join("\n  ")
        );
        watch
    }

    /// Every sign of a failed filter since the baseline, empty when none.
    pub fn failures(&self, envoy: &Envoy) -> Vec<String> {
        let mut found = Vec::new();
        if !envoy.is_alive() {
            // Nothing else can be asked of a dead Envoy.
            found.push(format!("the Envoy process {} is gone", envoy.pid()));
            found.extend(log_failures(envoy));
            return found;
        }
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
        found.extend(log_failures(envoy));
        found
    }

    pub fn assert_healthy(&self, envoy: &Envoy) {
        let failures = self.failures(envoy);
        assert!(
            failures.is_empty(),
            "the filter failed:\n  {}",
            failures.join("\n  ")
        );
    }
}

fn log_failures(envoy: &Envoy) -> Vec<String> {
    envoy
        .log()
        .lines()
        .filter(|line| FAILURE_LINES.iter().any(|sign| line.contains(sign)))
        .map(|line| format!("log: {line}"))
        .collect()
}
