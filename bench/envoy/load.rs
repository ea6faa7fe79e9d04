//! The load: wrk runs against each contender's listener, the script that makes
//! wrk print one parsable line, and its parsing into a `Sample`.

use crate::common::{self, envoy::Envoy, envoy::Scratch, http::Request};
use crate::contenders::Contender;
use crate::proc_stats::{cpu_ns, CpuUsage};
use crate::settings::Settings;
use crate::workloads::Workload;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every wrk run of the rounds, by workload and contender.
pub(crate) type Samples = BTreeMap<(Workload, Contender), Vec<Sample>>;

/// One wrk run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub(crate) rps: f64,
    /// CPU time the Envoy under test spent per request, all threads: its cost,
    /// whatever the other processes on the machine do to throughput.
    pub(crate) cpu_us: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
}

impl Workload {
    fn wrk_script(self) -> String {
        wrk_script(&self.request(), None)
    }
}

/// The wrk script sending `request` (with `host` as its `Host`, else wrk's
/// own), and a `done` hook printing one parsable line.
pub(crate) fn wrk_script(request: &Request, host: Option<&str>) -> String {
    let mut script = format!("wrk.method = \"{}\"\n", request.method);
    if let Some(host) = host {
        let _ = writeln!(script, "wrk.headers[\"Host\"] = {host:?}");
    }
    for (name, value) in &request.headers {
        let _ = writeln!(
            script,
            "wrk.headers[\"{name}\"] = {:?}",
            String::from_utf8_lossy(value)
        );
    }
    script.push_str(
        r#"done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.min, latency.max))
end
"#,
    );
    script
}

/// Each workload's wrk script, written to `scratch`.
pub(crate) fn write_scripts(scratch: &Scratch) -> BTreeMap<Workload, PathBuf> {
    Workload::ALL
        .iter()
        .map(|w| {
            let path = scratch.path(&format!("{w:?}.lua"));
            fs::write(&path, w.wrk_script()).unwrap();
            (*w, path)
        })
        .collect()
}

/// A short warm-up of every pair: V8 compiles lazily, connections open.
pub(crate) fn warm_up(
    scripts: &BTreeMap<Workload, PathBuf>,
    under_test: &Envoy,
    settings: &Settings,
    deadline: Instant,
    measured: u32,
) {
    for workload in Workload::ALL {
        for contender in workload.contenders() {
            wrk(
                &scripts[&workload],
                under_test.listener_port(contender.name()),
                1,
                settings.connections,
                deadline,
                measured,
            );
        }
    }
}

/// The measured rounds: every pair once per round, the contenders interleaved;
/// with each round, the share of one core the other processes used meanwhile.
pub(crate) fn rounds(
    scripts: &BTreeMap<Workload, PathBuf>,
    under_test: &Envoy,
    settings: &Settings,
    deadline: Instant,
    measured: u32,
) -> (Samples, Vec<f64>) {
    let mut samples: Samples = BTreeMap::new();
    let mut foreign_cpu = Vec::new();
    for round in 0..settings.rounds {
        let usage = CpuUsage::start();
        for workload in Workload::ALL {
            let mut order = workload.contenders();
            // Rotate, so no contender always runs first or last.
            let len = order.len();
            order.rotate_left(round % len);
            for contender in order {
                let sample = wrk(
                    &scripts[&workload],
                    under_test.listener_port(contender.name()),
                    settings.seconds,
                    settings.connections,
                    deadline,
                    measured,
                );
                samples
                    .entry((workload, contender))
                    .or_default()
                    .push(sample);
            }
        }
        let foreign = usage.foreign_percent();
        foreign_cpu.push(foreign);
        println!(
            "round {}/{} done; other processes used {foreign:.0}% of one core",
            round + 1,
            settings.rounds
        );
    }
    (samples, foreign_cpu)
}

/// Runs wrk once; panics on errors or non-2xx answers, which would make the numbers meaningless.
pub(crate) fn wrk(
    script: &Path,
    port: u16,
    seconds: u64,
    connections: u32,
    deadline: Instant,
    measured: u32,
) -> Sample {
    assert!(
        Instant::now() + Duration::from_secs(seconds + 5) < deadline,
        "out of time: the bench's bound (BENCH_MAX_SECONDS, or BENCH_SCALE_MAX_SECONDS for the scale section) reached"
    );
    let mut command = Command::new("wrk");
    command
        .args(["-t", "1", "-c", &connections.to_string()])
        .args(["-d", &format!("{seconds}s"), "--timeout", "5s", "-s"])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/api/items"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // wrk dies with the bench instead of outliving it.
    common::dies_with_parent(&mut command);
    let cpu_before = cpu_ns(measured);
    let mut child = command.spawn().expect("run wrk");
    let limit = Instant::now() + Duration::from_secs(seconds + 20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wrk did not finish within {} s", seconds + 20);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu = cpu_ns(measured).saturating_sub(cpu_before);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "wrk printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let n: Vec<f64> = line
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let (requests, duration_us, errors, bad_status) = (n[0], n[1], n[2], n[3]);
    assert!(
        errors == 0.0 && bad_status == 0.0,
        "wrk saw {errors} socket errors and {bad_status} answers >= 400 on port {port}:\n{stdout}"
    );
    Sample {
        rps: requests / (duration_us / 1e6),
        cpu_us: cpu as f64 / 1e3 / requests.max(1.0),
        p50_us: n[4],
        p99_us: n[5],
    }
}
