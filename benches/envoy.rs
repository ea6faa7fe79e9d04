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
//! Settings (environment): `BENCH_ROUNDS` (5), `BENCH_SECONDS` per run (3),
//! `BENCH_CONNECTIONS` (16), `BENCH_CALLGRIND_REQUESTS` (300; 0 skips
//! callgrind), `BENCH_QUIET_WAIT` seconds to wait for the other processes on
//! the machine to go quiet before starting (0), `BENCH_DOC`
//! (docs/benchmarks.md; `-` writes nothing), `ENVOY`, `CORS_WASM`, `CORS_MODULE`,
//! `BENCH_EMPTY_WASM`, `BENCH_EMPTY_MODULE`. The whole run is bounded by `BENCH_MAX_SECONDS` (1200).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "envoy/instructions.rs"]
mod instructions;

use common::envoy::{self, Envoy, Scratch};
use common::http::{Request, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A realistic policy: a handful of exact origins, a subdomain wildcard,
/// 4 methods, 3 headers, max_age and credentials.
const PLUGIN_CONFIG: &str = include_str!("../bench/policy.json");

const ORIGIN: &str = "https://app.example.com";

/// What a browser sends with every request besides CORS headers, so each
/// contender handles a header map of realistic size.
const BROWSER_HEADERS: [(&str, &str); 10] = [
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    ("accept", "application/json, text/plain, */*"),
    ("accept-language", "en-US,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("referer", "https://app.example.com/dashboard"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-site", "same-site"),
    ("sec-fetch-dest", "empty"),
    ("sec-ch-ua", "\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\""),
    ("cookie", "session=6f1e0c2a9b7d4e3f8a1b2c3d4e5f6a7b; theme=dark; _ga=GA1.2.123456789.1700000000"),
];

/// What the upstream answers with besides its body, likewise.
const UPSTREAM_HEADERS: [(&str, &str); 5] = [
    ("cache-control", "private, max-age=0"),
    ("etag", "\"33a64df551425fcc55e4d42a148795d9f25f89d4\""),
    ("strict-transport-security", "max-age=63072000; includeSubDomains; preload"),
    ("x-request-id", "9f2c1d7e-2b7c-4d8a-9a51-6b3f0c2e8d11"),
    ("content-security-policy", "default-src 'self'; script-src 'self' https://cdn.example.com; connect-src 'self' https://api.example.com; frame-ancestors 'none'"),
];
const PREFLIGHT_METHOD: &str = "PUT";
const PREFLIGHT_HEADERS: &str = "content-type, authorization";

/// The plugin's answer to the bench preflight, which the cheapest-reply
/// fixture sends verbatim: same bytes on the wire, no decision.
const PREFLIGHT_ANSWER: [(&str, &str); 6] = [
    ("access-control-allow-origin", ORIGIN),
    ("access-control-allow-methods", "GET, POST, PUT, DELETE"),
    (
        "access-control-allow-headers",
        "content-type, authorization, x-requested-with",
    ),
    ("access-control-max-age", "600"),
    ("access-control-allow-credentials", "true"),
    (
        "vary",
        "origin, access-control-request-method, access-control-request-headers",
    ),
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Contender {
    /// No CORS filter: the router alone.
    None,
    /// Envoy's native CORS filter with the same policy.
    Native,
    /// The empty Proxy-Wasm filter: what any Wasm filter costs.
    Empty,
    /// The fixture answering every request with the plugin's preflight reply,
    /// prebuilt: the cheapest possible Wasm local reply.
    EmptyReply,
    /// The empty dynamic module: what any dynamic module costs.
    EmptyModule,
    /// The empty module answering every request with the same preflight
    /// reply, prebuilt: the cheapest module local reply.
    EmptyModuleReply,
    /// proxy-wasm-cors, the Proxy-Wasm plugin.
    Plugin,
    /// proxy-wasm-cors, the dynamic module: the same core, natively.
    Module,
}

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::None => "none",
            Contender::Native => "native",
            Contender::Empty => "empty-wasm",
            Contender::EmptyReply => "empty-wasm-reply",
            Contender::EmptyModule => "empty-module",
            Contender::EmptyModuleReply => "empty-module-reply",
            Contender::Plugin => "plugin",
            Contender::Module => "module",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Contender::None => "no CORS filter (router only)",
            Contender::Native => "Envoy's native CORS filter (`envoy.filters.http.cors`), same policy",
            Contender::Empty => "empty Proxy-Wasm filter (bench/empty-filter): no host call",
            Contender::EmptyReply => "empty Proxy-Wasm filter sending the same preflight answer, prebuilt, with one host call and no header read: the cheapest Wasm local reply",
            Contender::EmptyModule => "empty dynamic module (bench/empty-module): every hook empty, no callback",
            Contender::EmptyModuleReply => "empty dynamic module sending the same preflight answer, prebuilt, with one callback (`send_response_headers`, as the module does) and no header read: the cheapest module local reply",
            Contender::Plugin => "proxy-wasm-cors, the Proxy-Wasm plugin (dist/cors.wasm)",
            Contender::Module => "proxy-wasm-cors, the dynamic module (dist/libcors.so): the same core and policy, natively",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Workload {
    Actual,
    Preflight,
    NoOrigin,
}

impl Workload {
    const ALL: [Workload; 3] = [Workload::Actual, Workload::Preflight, Workload::NoOrigin];

    fn name(self) -> &'static str {
        match self {
            Workload::Actual => "actual GET with Origin",
            Workload::Preflight => "allowed preflight",
            Workload::NoOrigin => "GET without Origin",
        }
    }

    /// The contenders that make sense for this workload: the reply fixture
    /// answers everything locally, so it only stands for preflights.
    fn contenders(self) -> Vec<Contender> {
        let mut all = vec![
            Contender::None,
            Contender::Native,
            Contender::Empty,
            Contender::EmptyModule,
            Contender::Plugin,
            Contender::Module,
        ];
        if self == Workload::Preflight {
            all.insert(3, Contender::EmptyReply);
            all.insert(5, Contender::EmptyModuleReply);
        }
        all
    }

    fn request(self) -> Request {
        let request = match self {
            Workload::Actual => Request::get("/api/items").header("origin", ORIGIN),
            Workload::Preflight => Request::preflight("/api/items", ORIGIN, PREFLIGHT_METHOD)
                .header("access-control-request-headers", PREFLIGHT_HEADERS),
            Workload::NoOrigin => Request::get("/api/items"),
        };
        BROWSER_HEADERS
            .iter()
            .fold(request, |r, (name, value)| r.header(name, value))
    }

    /// The wrk script: the request, and a `done` hook printing one parsable line.
    fn wrk_script(self) -> String {
        let request = self.request();
        let mut script = format!("wrk.method = \"{}\"\n", request.method);
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

    /// What each contender must answer, checked before measuring.
    fn expect(self, contender: Contender, response: &Response) -> Result<(), String> {
        let acao = response.get("access-control-allow-origin");
        let (status, acao_want): (u16, Option<&str>) = match (self, contender) {
            (Workload::Actual, Contender::None | Contender::Empty | Contender::EmptyModule) => {
                (200, None)
            }
            (Workload::Actual, _) => (200, Some(ORIGIN)),
            (Workload::Preflight, Contender::None | Contender::Empty | Contender::EmptyModule) => {
                (200, None)
            }
            (Workload::Preflight, Contender::Native) => (200, Some(ORIGIN)),
            (Workload::Preflight, _) => (204, Some(ORIGIN)),
            (Workload::NoOrigin, _) => (200, None),
        };
        if response.status != status || acao.as_deref() != acao_want {
            return Err(format!(
                "{} on {}: status {} and access-control-allow-origin {acao:?}, want {status} and {acao_want:?}",
                self.name(),
                contender.name(),
                response.status
            ));
        }
        if self == Workload::Preflight && status == 204 {
            let got: Vec<(String, String)> = response
                .headers
                .iter()
                .filter(|(n, _)| n.starts_with("access-control-") || n == "vary")
                .cloned()
                .collect();
            let want: Vec<(String, String)> = PREFLIGHT_ANSWER
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            if got != want {
                return Err(format!(
                    "preflight on {}: headers {got:?}, want {want:?}",
                    contender.name()
                ));
            }
        }
        Ok(())
    }
}

/// One wrk run.
#[derive(Clone, Copy, Debug)]
struct Sample {
    rps: f64,
    /// CPU time the Envoy under test spent per request, all threads: its cost,
    /// whatever the other processes on the machine do to throughput.
    cpu_us: f64,
    p50_us: f64,
    p99_us: f64,
}

struct Settings {
    rounds: usize,
    seconds: u64,
    connections: u32,
    quiet_wait: u64,
    max_seconds: u64,
    callgrind_requests: usize,
    doc: Option<PathBuf>,
    plugin_wasm: PathBuf,
    module: PathBuf,
    empty_wasm: PathBuf,
    empty_module: PathBuf,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        let root = common::root();
        let doc = std::env::var("BENCH_DOC").unwrap_or_else(|_| "docs/benchmarks.md".into());
        Settings {
            rounds: env_or("BENCH_ROUNDS", 5),
            seconds: env_or("BENCH_SECONDS", 3),
            connections: env_or("BENCH_CONNECTIONS", 16),
            quiet_wait: env_or("BENCH_QUIET_WAIT", 0),
            max_seconds: env_or("BENCH_MAX_SECONDS", 1200),
            callgrind_requests: env_or("BENCH_CALLGRIND_REQUESTS", 300),
            doc: (doc != "-").then(|| root.join(doc)),
            plugin_wasm: common::wasm_path(),
            module: common::form::Form::Module.artifact(),
            empty_wasm: std::env::var_os("BENCH_EMPTY_WASM")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    root.join(
                        "bench/empty-filter/target/wasm32-wasip1/release/cors_bench_empty_filter.wasm",
                    )
                }),
            empty_module: std::env::var_os("BENCH_EMPTY_MODULE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    root.join("bench/empty-module/target/release/libempty_module.so")
                }),
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let settings = Settings::from_env();
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
    let upstream = Envoy::start(&envoy::bootstrap(
        vec![envoy::listener(
            "upstream",
            vec![envoy::router()],
            json!({"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [{
                "match": {"prefix": "/"},
                "direct_response": {"status": 200, "body": {"inline_string": "upstream ok\n"}},
                "response_headers_to_add": UPSTREAM_HEADERS
                    .iter()
                    .map(|(k, v)| json!({"header": {"key": k, "value": v}}))
                    .collect::<Vec<_>>()
            }]}]}),
        )],
        vec![],
    ))
    .unwrap_or_else(|log| panic!("the upstream Envoy did not start:\n{log}"));
    if pinned {
        pin_to(1);
    }
    let under_test = Envoy::start(&bootstrap_under_test(&settings, upstream.port()))
        .unwrap_or_else(|log| panic!("the Envoy under test did not start:\n{log}"));
    if pinned {
        pin_to(0);
    }

    let measured = pid_of(&under_test);

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
    let scripts: BTreeMap<Workload, PathBuf> = Workload::ALL
        .iter()
        .map(|w| {
            let path = scratch.path(&format!("{w:?}.lua"));
            fs::write(&path, w.wrk_script()).unwrap();
            (*w, path)
        })
        .collect();
    // A short warm-up of every pair: V8 compiles lazily, connections open.
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

    let mut samples: BTreeMap<(Workload, Contender), Vec<Sample>> = BTreeMap::new();
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
    let load_after = loadavg();
    drop(under_test);

    let mut instructions = BTreeMap::new();
    if settings.callgrind_requests > 0 {
        assert!(
            instructions::available(),
            "valgrind is missing: install it with `apt-get install valgrind` (or set BENCH_CALLGRIND_REQUESTS=0)"
        );
        println!(
            "counting instructions per request under callgrind ({} requests per run)",
            settings.callgrind_requests
        );
        let counted = instructions::Callgrind::start(
            &envoy::binary(),
            bootstrap_under_test(&settings, upstream.port()),
        );
        for workload in Workload::ALL {
            let raw = workload.request().to_keep_alive_bytes("localhost");
            for contender in workload.contenders() {
                assert!(
                    Instant::now() < deadline,
                    "out of time: BENCH_MAX_SECONDS reached"
                );
                let n = counted.per_request(
                    counted.port(contender.name()),
                    &raw,
                    settings.callgrind_requests,
                    settings.callgrind_requests,
                );
                instructions.insert((workload, contender), n);
            }
        }
    }
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
        write_section(doc, &table);
        println!("wrote {}", doc.display());
    }
}

fn bootstrap_under_test(settings: &Settings, upstream_port: u16) -> Value {
    let plugin = common::form::wasm_filter_from(&settings.plugin_wasm, PLUGIN_CONFIG);
    let module = common::form::module_filter_from(&settings.module, PLUGIN_CONFIG);
    let empty_module = common::form::module_filter_from(&settings.empty_module, "");
    let empty = common::form::wasm_filter_from(&settings.empty_wasm, "");
    let mut reply = String::from("reply 204\n");
    for (name, value) in PREFLIGHT_ANSWER {
        let _ = writeln!(reply, "{name}: {value}");
    }
    let empty_reply = common::form::wasm_filter_from(&settings.empty_wasm, &reply);
    let empty_module_reply = common::form::module_filter_from(&settings.empty_module, &reply);
    let native_filter = json!({
        "name": "envoy.filters.http.cors",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}
    });
    // The contenders that are one filter before the router, on every route.
    let filtered = [
        (Contender::Empty, empty),
        (Contender::EmptyReply, empty_reply),
        (Contender::EmptyModule, empty_module),
        (Contender::EmptyModuleReply, empty_module_reply),
        (Contender::Plugin, plugin),
        (Contender::Module, module),
    ];
    let mut listeners = vec![
        envoy::listener(
            Contender::None.name(),
            vec![envoy::router()],
            envoy::route_to("upstream"),
        ),
        envoy::listener(
            Contender::Native.name(),
            vec![native_filter, envoy::router()],
            native_route(),
        ),
    ];
    listeners.extend(filtered.map(|(contender, filter)| {
        envoy::listener(
            contender.name(),
            vec![filter, envoy::router()],
            envoy::route_to("upstream"),
        )
    }));
    envoy::bootstrap(listeners, vec![envoy::cluster("upstream", upstream_port)])
}

/// The same policy for Envoy's native filter, per route.
fn native_route() -> Value {
    let exact = [
        "https://app.example.com",
        "https://admin.example.com",
        "https://www.example.org",
        "https://partner.example.net",
        "http://localhost:3000",
    ];
    let mut origins: Vec<Value> = exact.iter().map(|o| json!({"exact": o})).collect();
    origins
        .push(json!({"safe_regex": {"regex": r"https://[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.com"}}));
    json!({"virtual_hosts": [{
        "name": "all", "domains": ["*"],
        "routes": [{
            "match": {"prefix": "/"},
            "route": {"cluster": "upstream"},
            "typed_per_filter_config": {"envoy.filters.http.cors": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
                "allow_origin_string_match": origins,
                "allow_methods": "GET, POST, PUT, DELETE",
                "allow_headers": "content-type, authorization, x-requested-with",
                "max_age": "600",
                "allow_credentials": true
            }}
        }]
    }]})
}

/// Runs wrk once; panics on errors or non-2xx answers, which would make the numbers meaningless.
fn wrk(
    script: &Path,
    port: u16,
    seconds: u64,
    connections: u32,
    deadline: Instant,
    measured: u32,
) -> Sample {
    assert!(
        Instant::now() + Duration::from_secs(seconds + 5) < deadline,
        "out of time: BENCH_MAX_SECONDS reached"
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

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

struct Report<'a> {
    samples: BTreeMap<(Workload, Contender), Vec<Sample>>,
    /// Instructions per request in the Envoy under test, from callgrind.
    instructions: BTreeMap<(Workload, Contender), f64>,
    settings: &'a Settings,
    machine: String,
    envoy_version: String,
    wrk_version: String,
    rustc_version: String,
    load_before: String,
    load_after: String,
    quiet_before: f64,
    foreign_cpu: Vec<f64>,
    pinned: bool,
}

impl Report<'_> {
    fn rps(&self, w: Workload, c: Contender) -> f64 {
        median(self.samples[&(w, c)].iter().map(|s| s.rps).collect())
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let s = self.settings;
        let _ = writeln!(out, "| Workload | Contender | req/s (median) | req/s min–max | p50 latency | p99 latency | Envoy CPU per request | Envoy instructions per request |");
        let _ = writeln!(
            out,
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for ((w, c), runs) in &self.samples {
            let rps: Vec<f64> = runs.iter().map(|r| r.rps).collect();
            let lo = rps.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = rps.iter().copied().fold(0.0, f64::max);
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0}–{:.0} | {:.0} µs | {:.0} µs | {:.1} µs | {} |",
                w.name(),
                c.name(),
                median(rps),
                lo,
                hi,
                median(runs.iter().map(|r| r.p50_us).collect()),
                median(runs.iter().map(|r| r.p99_us).collect()),
                median(runs.iter().map(|r| r.cpu_us).collect()),
                self.instructions
                    .get(&(*w, *c))
                    .map_or("–".to_string(), |n| format!("{:.0}", n)),
            );
        }
        self.ratios(
            &mut out,
            "Ratios of median requests per second (1.0 = as fast; above 1, the first named is faster)",
            |w, c| Some(self.rps(w, c)),
        );
        self.ratios(
            &mut out,
            "The same ratios from the Envoy under test's CPU time per request (the inverse ratio of costs)",
            |w, c| {
                let cpu = median(self.samples.get(&(w, c))?.iter().map(|r| r.cpu_us).collect());
                Some(1.0 / cpu)
            },
        );
        if !self.instructions.is_empty() {
            self.ratios(
                &mut out,
                "The same ratios from instructions per request under callgrind (the inverse ratio of costs; independent of machine load)",
                |w, c| self.instructions.get(&(w, c)).map(|n| 1.0 / n),
            );
        }
        let micro = micro_benchmarks();
        if !micro.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "Core decisions, native, from the last `make bench-core` (criterion; policy as above):");
            let _ = writeln!(out);
            let _ = writeln!(out, "| Decision | median | 95% confidence |");
            let _ = writeln!(out, "| --- | ---: | ---: |");
            for (name, median, low, high) in micro {
                let _ = writeln!(
                    out,
                    "| {name} | {} | {}–{} |",
                    ns(median),
                    ns(low),
                    ns(high)
                );
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Contenders:");
        let _ = writeln!(out);
        for c in Workload::Preflight.contenders() {
            let _ = writeln!(out, "- `{}`: {}", c.name(), c.describe());
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Run:");
        let _ = writeln!(out);
        let _ = writeln!(out, "- command: `make bench` ({} rounds × {} s per run, {} connections, wrk with 1 thread, contenders interleaved and rotated each round; medians over rounds)", s.rounds, s.seconds, s.connections);
        let _ = writeln!(out, "- machine: {}", self.machine);
        let _ = writeln!(out, "- Envoy under test `--concurrency 1`{}; upstream: a second Envoy with a `direct_response`{}", if self.pinned { " pinned to CPU 1" } else { "" }, if self.pinned { ", pinned with wrk to CPU 0" } else { "" });
        let _ = writeln!(out, "- {}", self.envoy_version);
        let _ = writeln!(out, "- {}; {}", self.wrk_version, self.rustc_version);
        let _ = writeln!(
            out,
            "- plugin `dist/cors.wasm`: {} bytes; module `dist/libcors.so`: {} bytes; fixtures: {} bytes (Wasm), {} bytes (module)",
            file_size(&s.plugin_wasm),
            file_size(&s.module),
            file_size(&s.empty_wasm),
            file_size(&s.empty_module)
        );
        let _ = writeln!(
            out,
            "- load average before: {}; after: {}; other processes before the run: {:.0}% of one core; during each round: {}",
            self.load_before,
            self.load_after,
            self.quiet_before,
            self.foreign_cpu
                .iter()
                .map(|p| format!("{p:.0}%"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out
    }
}

impl Report<'_> {
    /// One table of speed ratios per workload; `speed`: higher is faster.
    fn ratios(
        &self,
        out: &mut String,
        title: &str,
        speed: impl Fn(Workload, Contender) -> Option<f64>,
    ) {
        let _ = writeln!(out);
        let _ = writeln!(out, "{title}:");
        let _ = writeln!(out);
        let _ = writeln!(out, "| Workload | module/native | module/plugin | module/empty-module | module/empty-module-reply | empty-module/none | plugin/native | plugin/empty-wasm | plugin/empty-wasm-reply | native/none |");
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for w in Workload::ALL {
            let r = |a, b| match (speed(w, a), speed(w, b)) {
                (Some(a), Some(b)) => format!("{:.3}", a / b),
                _ => "–".to_string(),
            };
            let (reply, module_reply) = if w == Workload::Preflight {
                (
                    r(Contender::Plugin, Contender::EmptyReply),
                    r(Contender::Module, Contender::EmptyModuleReply),
                )
            } else {
                ("–".to_string(), "–".to_string())
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {module_reply} | {} | {} | {} | {reply} | {} |",
                w.name(),
                r(Contender::Module, Contender::Native),
                r(Contender::Module, Contender::Plugin),
                r(Contender::Module, Contender::EmptyModule),
                r(Contender::EmptyModule, Contender::None),
                r(Contender::Plugin, Contender::Native),
                r(Contender::Plugin, Contender::Empty),
                r(Contender::Native, Contender::None),
            );
        }
    }
}

/// Criterion's estimates from bench/core: (name, median, low, high) in ns.
fn micro_benchmarks() -> Vec<(String, f64, f64, f64)> {
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

fn ns(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} µs", value / 1000.0)
    } else {
        format!("{value:.1} ns")
    }
}

fn file_size(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Replaces what lies between the bench markers of the doc, or writes the
/// markers and the table if the doc has none.
fn write_section(doc: &Path, table: &str) {
    const START: &str = "<!-- bench:start -->";
    const END: &str = "<!-- bench:end -->";
    let old = fs::read_to_string(doc).unwrap_or_default();
    let new = match (old.find(START), old.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{START}\n{table}{}", &old[..a], &old[b..]),
        _ => format!("{old}\n{START}\n{table}{END}\n"),
    };
    if let Some(dir) = doc.parent() {
        fs::create_dir_all(dir).unwrap();
    }
    fs::write(doc, new).unwrap();
}

fn tool_version(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cpus} CPUs, Linux {}", kernel.trim())
}

fn loadavg() -> String {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pins this process (and so the children it starts next) to one CPU.
fn pin_to(cpu: usize) -> bool {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return false;
    }
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Waits (bounded) until the rest of the machine uses under 20% of one core
/// over 2 s; returns the last reading.
fn wait_for_quiet(max_wait: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(max_wait);
    loop {
        let usage = CpuUsage::start();
        std::thread::sleep(Duration::from_secs(2));
        let busy = usage.foreign_percent();
        if busy < 20.0 || Instant::now() >= deadline {
            if busy >= 20.0 {
                println!("the machine is busy ({busy:.0}% of one core used by other processes); measuring anyway");
            }
            return busy;
        }
        println!("waiting for the machine to go quiet: other processes use {busy:.0}% of one core");
    }
}

/// CPU time used by other processes than this one and its children, from /proc.
struct CpuUsage {
    at: Instant,
    total_busy: u64,
    ours: u64,
}

impl CpuUsage {
    fn start() -> CpuUsage {
        CpuUsage {
            at: Instant::now(),
            total_busy: total_busy_ticks(),
            ours: our_ticks(),
        }
    }

    /// Percent of one core used by everything else since `start`.
    fn foreign_percent(&self) -> f64 {
        let busy = total_busy_ticks().saturating_sub(self.total_busy);
        let ours = our_ticks().saturating_sub(self.ours);
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let seconds = self.at.elapsed().as_secs_f64().max(0.001);
        busy.saturating_sub(ours) as f64 / ticks_per_second / seconds * 100.0
    }
}

fn total_busy_ticks() -> u64 {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    fields
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, v)| v)
        .sum()
}

/// utime + stime (+ waited-for children) of this process and its live children.
fn our_ticks() -> u64 {
    let me = std::process::id();
    let mut sum = proc_ticks(&format!("/proc/{me}/stat"), true);
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let path = entry.path().join("stat");
            if let Ok(text) = fs::read_to_string(&path) {
                if parent_of(&text) == Some(me) {
                    sum += ticks_of(&text, false);
                }
            }
        }
    }
    sum
}

fn proc_ticks(path: &str, with_children: bool) -> u64 {
    fs::read_to_string(path)
        .map(|t| ticks_of(&t, with_children))
        .unwrap_or(0)
}

/// Fields after the `(comm)`: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based.
fn stat_fields(text: &str) -> Vec<&str> {
    let after = text.rfind(')').map_or("", |i| &text[i + 1..]);
    after.split_whitespace().collect()
}

fn parent_of(text: &str) -> Option<u32> {
    stat_fields(text).get(1)?.parse().ok()
}

fn ticks_of(text: &str, with_children: bool) -> u64 {
    let f = stat_fields(text);
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let own = get(11) + get(12);
    if with_children {
        own + get(13) + get(14)
    } else {
        own
    }
}

/// The process id of an Envoy started by this process: the child whose
/// command line names its configuration file.
fn pid_of(envoy: &Envoy) -> u32 {
    let config = envoy.scratch.path("envoy.yaml");
    let config = config.to_string_lossy();
    let me = std::process::id();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            parent_of(&stat) == Some(me)
                && String::from_utf8_lossy(&cmdline).contains(config.as_ref())
        })
        .unwrap_or_else(|| panic!("no child process runs {config}"))
}

/// CPU time of every thread of a process, in nanoseconds (schedstat's first field).
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
