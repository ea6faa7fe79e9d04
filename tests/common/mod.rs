//! Shared by the end-to-end suites: a real Envoy started on free loopback
//! ports with the built plugin, a loopback upstream that counts what it
//! receives, and a raw HTTP/1.1 client that can send any bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod big_policies;
pub mod cases;
pub mod curl;
pub mod envoy;
pub mod examples;
pub mod form;
pub mod health;
pub mod http;
pub mod ports;
pub mod tls;
pub mod upstream;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built Wasm plugin. `make test` builds it first.
pub fn wasm_path() -> PathBuf {
    form::Form::Wasm.artifact()
}

/// Runs every case and fails once, listing each failing case by name, so one
/// run shows everything that is wrong.
pub fn run_cases<C>(
    cases: &[C],
    name: impl Fn(&C) -> String,
    check: impl Fn(&C) -> Result<(), String>,
) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).err().map(|e| format!("  {}: {e}", name(case))))
        .collect();
    eprintln!("{} cases, {} failed", cases.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Makes a child process (Envoy, wrk, valgrind) die with the process that
/// spawned it, so nothing a test or bench starts outlives it.
pub fn dies_with_parent(command: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe; it only sets a flag on the child.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}
