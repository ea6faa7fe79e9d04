//! `make bench`: both forms of the filter in a real Envoy (the Proxy-Wasm
//! plugin and the dynamic module), side by side with no CORS filter, Envoy's
//! native CORS filter and an empty Proxy-Wasm filter (the Wasm floor).
//!
//! One Envoy under test (`--concurrency 1`) has one listener per contender,
//! all routed to one loopback upstream (a second Envoy answering with a
//! `direct_response`). wrk loads each listener with fixed connections in short
//! rounds that interleave the contenders, so drift hits all alike; the table
//! shows medians over the rounds. Every listener's answers are checked first,
//! so a misconfigured contender cannot be measured by mistake.
//!
//! Besides req/s and latency it reports the Envoy under test's CPU time per
//! request (from /proc) and, from a second Envoy under callgrind,
//! instructions per request: both hold still while other processes load the
//! machine, which requests per second do not.
//!
//! Settings, from the environment: `settings.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The tests' shared code, not a copy; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../../tests/common/mod.rs"]
mod common;

mod bootstrap;
mod contenders;
mod instructions;
mod load;
mod machine;
mod micro_benchmarks;
mod proc_stats;
mod report;
mod scale;
mod settings;
mod workloads;

use common::envoy::{self, Envoy, Scratch};
use machine::{loadavg, machine, pin_to, tool_version, wait_for_quiet};
use report::Report;
use settings::Settings;
use std::time::{Duration, Instant};
use workloads::Workload;

fn main() {
    // `cargo bench` passes `--bench`; `scale` runs the scale section instead.
    let settings = Settings::from_env();
    if std::env::args().any(|a| a == "scale") {
        return scale_section(&settings);
    }
    for (path, how) in [
        (&settings.plugin_wasm, "make build"),
        (&settings.empty_wasm, "make bench-fixture"),
        (&settings.empty_module, "make bench-fixture"),
    ] {
        assert!(path.exists(), "{} is missing: run `{how}`", path.display());
    }
    let wrk_version = tool_version("wrk", &["-v"])
        .unwrap_or_else(|| panic!("wrk is missing: install it with `apt-get install wrk`"));
    let envoy_version = tool_version(&envoy::binary().to_string_lossy(), &["--version"])
        .unwrap_or_else(|| panic!("cannot run {}", envoy::binary().display()));

    let planned: u64 = Workload::ALL
        .iter()
        .map(|w| w.contenders().len() as u64)
        .sum::<u64>()
        * settings.rounds as u64
        * settings.seconds;
    assert!(
        planned + settings.quiet_wait + 60 <= settings.max_seconds,
        "{planned} s of load is more than BENCH_MAX_SECONDS={}",
        settings.max_seconds
    );
    let deadline = Instant::now() + Duration::from_secs(settings.max_seconds);

    let machine = machine();
    let quiet_before = wait_for_quiet(settings.quiet_wait);
    let load_before = loadavg();

    // The upstream takes CPU 0 with wrk; the Envoy under test gets CPU 1 to
    // itself, so the two do not trade places between rounds.
    let pinned = pin_to(0);
    let upstream = Envoy::start(&bootstrap::upstream())
        .unwrap_or_else(|log| panic!("the upstream Envoy did not start:\n{log}"));
    if pinned {
        pin_to(1);
    }
    let under_test = Envoy::start(&bootstrap::under_test(&settings, upstream.port()))
        .unwrap_or_else(|log| panic!("the Envoy under test did not start:\n{log}"));
    if pinned {
        pin_to(0);
    }

    let measured = proc_stats::pid_of(&under_test);

    // Check every answer first: a contender that answers wrong is not measured.
    for workload in Workload::ALL {
        for contender in workload.contenders() {
            let response = workload
                .request()
                .send(under_test.listener_port(contender.name()));
            workload
                .expect(contender, &response)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    println!(
        "{} rounds x {} s per run, {} connections, wrk 1 thread; Envoy under test pinned: {pinned}",
        settings.rounds, settings.seconds, settings.connections
    );

    let scratch = Scratch::new("bench");
    let scripts = load::write_scripts(&scratch);
    load::warm_up(&scripts, &under_test, &settings, deadline, measured);
    let (samples, foreign_cpu) = load::rounds(&scripts, &under_test, &settings, deadline, measured);
    let load_after = loadavg();
    drop(under_test);

    let instructions = instructions::count(&settings, upstream.port(), deadline);
    drop(upstream);

    let report = Report {
        samples,
        instructions,
        settings: &settings,
        machine,
        envoy_version,
        wrk_version,
        rustc_version: tool_version("rustc", &["--version"]).unwrap_or_default(),
        load_before,
        load_after,
        quiet_before,
        foreign_cpu,
        pinned,
    };
    let table = report.markdown();
    println!("\n{table}");
    if let Some(doc) = &settings.doc {
        report::write_section(doc, "bench", &table);
        println!("wrote {}", doc.display());
    }
}

/// The scale section: what a request costs as the policy grows (`scale.rs`).
fn scale_section(settings: &Settings) {
    let deadline = Instant::now() + Duration::from_secs(settings.scale_max_seconds);
    let upstream = Envoy::start(&bootstrap::upstream())
        .unwrap_or_else(|log| panic!("the upstream Envoy did not start:\n{log}"));
    let table = scale::run(settings, upstream.port(), deadline);
    drop(upstream);
    println!("\n{table}");
    if let Some(doc) = &settings.doc {
        report::write_section(doc, "scale", &table);
        println!("wrote {}", doc.display());
    }
}
