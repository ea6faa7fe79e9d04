//! Soak: SOAK_SECONDS (30 unless set; `make soak` runs 300) of mixed
//! preflight, actual and hostile traffic from wrk (tests/soak_mix.lua) through
//! Envoy with the plugin. Every response must have its kind's expected status
//! and `access-control-allow-origin`; the plugin's counters must agree with
//! what wrk saw; no VM may fail; and Envoy's memory (admin `/memory` allocated
//! bytes, and the process's resident set) must not grow between the first and
//! the last part of the run beyond small bounds. Needs `ENVOY` and `wrk`.

use crate::common;

use common::envoy::{self, Envoy};
use common::health::Health;
use common::http::Request;
use common::upstream::Upstream;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fixtures::CREDENTIALED as CONFIG;

/// The request kinds of tests/soak_mix.lua and the plugin counter each one
/// increments.
const KINDS: [(&str, &str); 14] = [
    ("preflight_allowed", "cors.preflight_allowed"),
    ("preflight_wildcard", "cors.preflight_allowed"),
    ("preflight_evil_origin", "cors.preflight_rejected_origin"),
    ("preflight_bad_header", "cors.preflight_rejected_headers"),
    ("actual_allowed", "cors.actual_allowed"),
    ("actual_evil_origin", "cors.actual_disallowed"),
    ("no_origin", "cors.no_origin"),
    ("hostile_non_utf8_origin", "cors.actual_disallowed"),
    ("hostile_two_origins", "cors.actual_disallowed"),
    ("hostile_uppercase_scheme", "cors.actual_disallowed"),
    ("hostile_null_origin", "cors.preflight_rejected_origin"),
    ("hostile_origin_path", "cors.preflight_rejected_origin"),
    ("hostile_8k_list", "cors.preflight_rejected_headers"),
    ("hostile_5000_empty", "cors.preflight_rejected_headers"),
];

/// wrk threads, one connection each (so responses match requests in order).
const CONNECTIONS: u64 = 2;
/// Growth allowed between the first and the last window. Envoy's heap holds
/// stats, connection and buffer pools that settle early; a leak of even a few
/// bytes per request over hundreds of thousands of requests exceeds these.
const MAX_ALLOCATED_GROWTH: u64 = 2 << 20;
const MAX_RSS_GROWTH: u64 = 8 << 20;

fn soak_seconds() -> u64 {
    let seconds = std::env::var("SOAK_SECONDS")
        .ok()
        .map(|s| {
            s.parse::<u64>()
                .expect("SOAK_SECONDS is a whole number of seconds")
        })
        .unwrap_or(30);
    assert!(
        (15..=3600).contains(&seconds),
        "SOAK_SECONDS={seconds}: use 15 to 3600"
    );
    seconds
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    /// Admin `/memory` "allocated": bytes Envoy's heap has handed out.
    allocated: u64,
    /// VmRSS from /proc: includes the Wasm VM's linear memory, which V8 maps
    /// outside Envoy's heap.
    rss: u64,
}

fn sample(envoy: &Envoy, started: Instant) -> Sample {
    let memory: Value = serde_json::from_slice(&envoy.admin("/memory").body).unwrap();
    let allocated = memory["allocated"].as_str().unwrap().parse().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", envoy.pid())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    Sample {
        at: started.elapsed(),
        allocated,
        rss: rss_kib * 1024,
    }
}

fn soak_envoy(upstream: &Upstream) -> Envoy {
    let mut cluster = envoy::cluster("upstream", upstream.port);
    // Envoy, not the test upstream, ends upstream connections (idle or after
    // many requests), so no request is ever sent on a connection being closed.
    cluster["typed_extension_protocol_options"] = json!({
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "common_http_protocol_options": {"idle_timeout": "10s", "max_requests_per_connection": 50000},
            "explicit_http_config": {"http_protocol_options": {}},
        }
    });
    let listener = envoy::listener(
        "cors",
        vec![envoy::cors_filter(CONFIG), envoy::router()],
        envoy::route_to("upstream"),
    );
    Envoy::start(&envoy::bootstrap(vec![listener], vec![cluster]))
        .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"))
}

/// wrk's report: `kind status ok|unexpected` → count, and its summary numbers.
struct WrkReport {
    tallies: BTreeMap<(String, u16, bool), u64>,
    summary: BTreeMap<String, u64>,
}

fn parse_wrk(output: &str) -> WrkReport {
    let mut tallies = BTreeMap::new();
    let mut summary = BTreeMap::new();
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["tally", kind, status, verdict, n] => {
                let key = (kind.to_string(), status.parse().unwrap(), *verdict == "ok");
                tallies.insert(key, n.parse().unwrap());
            }
            ["summary", pairs @ ..] => {
                for pair in pairs.chunks(2) {
                    summary.insert(pair[0].to_string(), pair[1].parse().unwrap());
                }
            }
            _ => {}
        }
    }
    assert!(!summary.is_empty(), "no summary from wrk:\n{output}");
    WrkReport { tallies, summary }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

#[test]
fn soak_mixed_traffic_keeps_answers_and_memory() {
    let seconds = soak_seconds();
    let wrk_ok = Command::new("wrk").arg("--version").output().is_ok();
    assert!(
        wrk_ok,
        "wrk is missing: install it with `apt-get install wrk`"
    );
    let upstream = Upstream::start();
    let envoy = soak_envoy(&upstream);
    let watch = Health::start(&envoy, "cors");
    let script = common::root().join("tests/soak_mix.lua");
    let url = format!("http://127.0.0.1:{}/", envoy.port());

    let started = Instant::now();
    let mut wrk = Command::new("wrk");
    wrk.args([
        "-t",
        &CONNECTIONS.to_string(),
        "-c",
        &CONNECTIONS.to_string(),
    ])
    .args(["-d", &format!("{seconds}s"), "--timeout", "10s", "-s"])
    .arg(&script)
    .arg(&url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // wrk dies with the test rather than outliving it.
    common::dies_with_parent(&mut wrk);
    let mut wrk = wrk.spawn().unwrap();
    // Sample memory through the run: 60 samples whatever its length.
    let interval = Duration::from_millis(seconds * 1000 / 60);
    let deadline = started + Duration::from_secs(seconds + 60);
    let mut samples = vec![sample(&envoy, started)];
    let status = loop {
        if let Some(status) = wrk.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = wrk.kill();
            panic!("wrk ran past {seconds} s + 60 s");
        }
        std::thread::sleep(interval.min(Duration::from_millis(200)));
        if samples
            .last()
            .is_none_or(|s| started.elapsed() >= s.at + interval)
        {
            samples.push(sample(&envoy, started));
        }
    };
    let mut output = String::new();
    wrk.stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    let mut errors = String::new();
    wrk.stderr
        .take()
        .unwrap()
        .read_to_string(&mut errors)
        .unwrap();
    assert!(
        status.success(),
        "wrk failed ({status}):\n{output}\n{errors}"
    );
    let report = parse_wrk(&output);
    samples.push(sample(&envoy, started));

    // Every response was the expected one, for every kind.
    let requests = report.summary["requests"];
    let tallied: u64 = report.tallies.values().sum();
    eprintln!(
        "soak: {seconds} s, {requests} requests ({} /s)",
        requests * 1_000_000 / report.summary["duration_us"].max(1)
    );
    for ((kind, status, ok), n) in &report.tallies {
        eprintln!(
            "  {kind:<26} {status} {:<10} {n}",
            if *ok { "expected" } else { "UNEXPECTED" }
        );
    }
    let unexpected: Vec<_> = report
        .tallies
        .iter()
        .filter(|((_, _, ok), _)| !ok)
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected responses: {unexpected:?}"
    );
    assert_eq!(tallied, requests, "every response was tallied");
    for error in ["connect", "read", "write", "timeout"] {
        assert_eq!(report.summary[error], 0, "wrk {error} errors:\n{output}");
    }
    // Responses wrk saw of each kind, every status together.
    let seen_of = |kind: &str| -> u64 {
        report
            .tallies
            .iter()
            .filter(|((k, _, _), _)| k == kind)
            .map(|(_, n)| n)
            .sum()
    };
    for (kind, _) in KINDS {
        assert!(seen_of(kind) > 0, "no {kind} request completed");
    }
    let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
    for (kind, _, _) in report.tallies.keys() {
        assert!(
            kinds.contains(&kind.as_str()),
            "unknown kind {kind}: update KINDS"
        );
    }

    // The plugin counted what wrk saw; at most one request per connection was
    // still in flight when wrk stopped.
    let mut per_metric: BTreeMap<&str, u64> = BTreeMap::new();
    for (kind, metric) in KINDS {
        *per_metric.entry(metric).or_default() += seen_of(kind);
    }
    for (metric, seen) in per_metric {
        let counted = envoy
            .stat(&common::form::Form::current().stat(metric))
            .unwrap_or(0);
        assert!(
            (seen..=seen + CONNECTIONS).contains(&counted),
            "{metric}: plugin counted {counted}, wrk saw {seen}"
        );
    }
    watch.assert_healthy(&envoy);

    // Memory: the last window against the first, each a third of the run up to a minute.
    let total = samples.last().unwrap().at;
    let window = (total / 3).min(Duration::from_secs(60));
    let first: Vec<&Sample> = samples.iter().filter(|s| s.at <= window).collect();
    let last: Vec<&Sample> = samples.iter().filter(|s| s.at + window >= total).collect();
    assert!(
        first.len() >= 3 && last.len() >= 3,
        "too few samples: {samples:?}"
    );
    let peak =
        |window: &[&Sample], f: fn(&Sample) -> u64| window.iter().map(|s| f(s)).max().unwrap();
    let (allocated_first, allocated_last) =
        (peak(&first, |s| s.allocated), peak(&last, |s| s.allocated));
    let (rss_first, rss_last) = (peak(&first, |s| s.rss), peak(&last, |s| s.rss));
    eprintln!(
        "memory peaks, first vs last {} s: allocated {:.2} -> {:.2} MiB, rss {:.2} -> {:.2} MiB ({} samples)",
        window.as_secs(),
        mib(allocated_first),
        mib(allocated_last),
        mib(rss_first),
        mib(rss_last),
        samples.len()
    );
    assert!(
        allocated_last <= allocated_first + MAX_ALLOCATED_GROWTH,
        "Envoy's heap grew by {:.2} MiB: {samples:?}",
        mib(allocated_last - allocated_first)
    );
    assert!(
        rss_last <= rss_first + MAX_RSS_GROWTH,
        "Envoy's resident memory grew by {:.2} MiB: {samples:?}",
        mib(rss_last - rss_first)
    );

    // Envoy still answers as before.
    let after = Request::preflight("/", "https://app.example.com", "PUT").send(envoy.port());
    assert_eq!(after.status, 204);
    assert_eq!(
        after.get("access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
}
