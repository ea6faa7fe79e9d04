//! The scale section of `make bench` (`make bench-scale`): what one request
//! costs as the policy grows, in both forms beside Envoy's native filter
//! configured the way its users would (one virtual host with a `CorsPolicy`
//! per tenant; one `exact` matcher per origin; one `suffix` matcher per
//! wildcard), and what a big policy costs to load.
//!
//! Every request names the last entry of its policy (the last tenant's host,
//! the last origin), where a scan would pay the most. For each size: one
//! Envoy under test with a listener per contender, checked answers, wrk rounds
//! (CPU time of that Envoy per request), then the same listeners under
//! callgrind (instructions per request); and each contender alone in a fresh
//! Envoy for the time to ready and the resident memory.

use crate::common::big_policies as big;
use crate::common::envoy::{self, Envoy, Scratch};
use crate::common::form;
use crate::common::http::{Request, Response};
use crate::contenders::Contender;
use crate::instructions::{self, Callgrind};
use crate::load;
use crate::proc_stats;
use crate::settings::Settings;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Family {
    /// One rule per tenant host.
    Rules,
    /// One list of exact origins.
    ExactOrigins,
    /// One list of subdomain wildcards.
    WildcardOrigins,
}

/// The sizes measured, each against its own size 1.
pub(crate) const SIZES: [(Family, usize); 9] = [
    (Family::Rules, 1),
    (Family::Rules, 100),
    (Family::Rules, 1_000),
    (Family::Rules, 10_000),
    (Family::ExactOrigins, 1),
    (Family::ExactOrigins, 10_000),
    (Family::ExactOrigins, 100_000),
    (Family::WildcardOrigins, 1),
    (Family::WildcardOrigins, 10_000),
];

const CONTENDERS: [Contender; 3] = [Contender::Native, Contender::Plugin, Contender::Module];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Kind {
    AllowedGet,
    AllowedPreflight,
    RefusedOrigin,
}

const KINDS: [Kind; 3] = [
    Kind::AllowedGet,
    Kind::AllowedPreflight,
    Kind::RefusedOrigin,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::AllowedGet => "allowed GET",
            Kind::AllowedPreflight => "allowed preflight",
            Kind::RefusedOrigin => "refused origin (GET)",
        }
    }
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Rules => "rules (tenants)",
            Family::ExactOrigins => "exact origins",
            Family::WildcardOrigins => "wildcard origins",
        }
    }

    /// The filter's policy of `n` entries.
    fn policy(self, n: usize) -> String {
        match self {
            Family::Rules => big::rules(n),
            Family::ExactOrigins => big::exact_origins(n),
            Family::WildcardOrigins => big::wildcards(n),
        }
    }

    /// The request's host and the origin allowed there: the last entry's.
    fn target(self, n: usize) -> (String, String) {
        let last = n - 1;
        match self {
            Family::Rules => (big::tenant_host(last), big::tenant_origin(last)),
            Family::ExactOrigins => ("localhost".into(), big::exact_origin(last)),
            Family::WildcardOrigins => ("localhost".into(), big::wildcard_match(last)),
        }
    }

    /// The native filter's route configuration for the same policy.
    fn native_routes(self, n: usize) -> Value {
        let cors = |origins: Vec<Value>| {
            json!({"envoy.filters.http.cors": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
                "allow_origin_string_match": origins,
                "allow_methods": big::METHODS,
                "max_age": big::MAX_AGE
            }})
        };
        let vhost = |name: String, domains: Vec<String>, origins: Vec<Value>| {
            json!({"name": name, "domains": domains,
                "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "upstream"}}],
                "typed_per_filter_config": cors(origins)})
        };
        let mut vhosts: Vec<Value> = match self {
            Family::Rules => (0..n)
                .map(|i| {
                    let origin = json!({"exact": big::tenant_origin(i)});
                    vhost(
                        format!("tenant-{i}"),
                        vec![big::tenant_host(i)],
                        vec![origin],
                    )
                })
                .collect(),
            Family::ExactOrigins => vec![],
            Family::WildcardOrigins => vec![],
        };
        let top: Vec<Value> = match self {
            Family::Rules => vec![json!({"exact": "https://app.example.com"})],
            Family::ExactOrigins => (0..n)
                .map(|i| json!({"exact": big::exact_origin(i)}))
                .collect(),
            // Suffix matchers: how the native filter's users write a subdomain wildcard.
            Family::WildcardOrigins => (0..n)
                .map(|i| json!({"suffix": format!(".tenant-{i}.example.com")}))
                .collect(),
        };
        vhosts.push(vhost("default".into(), vec!["*".into()], top));
        json!({ "virtual_hosts": vhosts })
    }
}

/// The listener of `contender` for a policy of `n` entries of `family`.
fn listener(contender: Contender, family: Family, n: usize, settings: &Settings) -> Value {
    let filter = match contender {
        Contender::Native => json!({
            "name": "envoy.filters.http.cors",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}
        }),
        Contender::Plugin => form::wasm_filter_from(&settings.plugin_wasm, &family.policy(n)),
        _ => form::module_filter_from(&settings.module, &family.policy(n)),
    };
    let routes = match contender {
        Contender::Native => family.native_routes(n),
        _ => envoy::route_to("upstream"),
    };
    envoy::listener(contender.name(), vec![filter, envoy::router()], routes)
}

fn bootstrap(contenders: &[Contender], family: Family, n: usize, s: &Settings, up: u16) -> Value {
    let listeners = contenders
        .iter()
        .map(|c| listener(*c, family, n, s))
        .collect();
    envoy::bootstrap(listeners, vec![envoy::cluster("upstream", up)])
}

/// The request of `kind` at the last entry, and its `Host`.
fn request(kind: Kind, family: Family, n: usize) -> (Request, String) {
    let (host, origin) = family.target(n);
    let request = match kind {
        Kind::AllowedGet => Request::get("/api/items").header("origin", &origin),
        Kind::AllowedPreflight => Request::preflight("/api/items", &origin, big::METHODS),
        Kind::RefusedOrigin => Request::get("/api/items").header("origin", "https://evil.example"),
    };
    (request, host)
}

/// What every contender must answer, checked before anything is measured.
fn expect(kind: Kind, family: Family, n: usize, contender: Contender, r: &Response) {
    let (_, origin) = family.target(n);
    let (status, acao) = match (kind, contender) {
        (Kind::AllowedGet, _) => (200, Some(origin.as_str())),
        // Envoy's native filter answers an allowed preflight with 200.
        (Kind::AllowedPreflight, Contender::Native) => (200, Some(origin.as_str())),
        (Kind::AllowedPreflight, _) => (204, Some(origin.as_str())),
        (Kind::RefusedOrigin, _) => (200, None),
    };
    let got = r.get("access-control-allow-origin");
    assert!(
        r.status == status && got.as_deref() == acao,
        "{} of {n} {}, {} on {}: status {} and access-control-allow-origin {got:?}, want {status} and {acao:?}",
        kind.name(),
        family.name(),
        "last entry",
        contender.name(),
        r.status
    );
}

/// One size's numbers.
#[derive(Default)]
pub(crate) struct Measured {
    /// Median CPU µs per request, by kind and contender.
    cpu: BTreeMap<(Kind, Contender), f64>,
    /// Instructions per request, by kind and contender.
    instructions: BTreeMap<(Kind, Contender), f64>,
    /// Each contender alone: time to ready (ms) and resident memory (MB).
    start: BTreeMap<Contender, (f64, f64)>,
    /// The core's own parse and compile of the policy, natively (ms).
    configure_ms: f64,
}

/// Runs the whole scale section and returns its markdown.
pub(crate) fn run(settings: &Settings, upstream_port: u16, deadline: Instant) -> String {
    let mut all = Vec::new();
    for (family, n) in SIZES {
        println!("scale: {n} {}", family.name());
        let measured = measure(settings, family, n, upstream_port, deadline);
        all.push((family, n, measured));
    }
    markdown(settings, &all)
}

fn measure(settings: &Settings, family: Family, n: usize, up: u16, deadline: Instant) -> Measured {
    let mut m = Measured {
        configure_ms: configure_ms(&family.policy(n)),
        ..Measured::default()
    };
    for contender in CONTENDERS {
        let started = Instant::now();
        let alone = Envoy::start(&bootstrap(&[contender], family, n, settings, up))
            .unwrap_or_else(|log| panic!("{} alone did not start:\n{log}", contender.name()));
        let ready_ms = started.elapsed().as_secs_f64() * 1e3;
        let rss = rss_mb(proc_stats::pid_of(&alone));
        m.start.insert(contender, (ready_ms, rss));
    }
    let under_test = Envoy::start(&bootstrap(&CONTENDERS, family, n, settings, up))
        .unwrap_or_else(|log| panic!("the Envoy under test did not start:\n{log}"));
    let pid = proc_stats::pid_of(&under_test);
    let scratch = Scratch::new("scale");
    let mut scripts = BTreeMap::new();
    for kind in KINDS {
        let (request, host) = request(kind, family, n);
        for contender in CONTENDERS {
            let port = under_test.listener_port(contender.name());
            expect(kind, family, n, contender, &request.send_as(port, &host));
        }
        let path = scratch.path(&format!("{kind:?}.lua"));
        fs::write(&path, load::wrk_script(&request, Some(&host))).unwrap();
        scripts.insert(kind, path);
    }
    let connections = settings.connections;
    for kind in KINDS {
        for contender in CONTENDERS {
            let port = under_test.listener_port(contender.name());
            load::wrk(&scripts[&kind], port, 1, connections, deadline, pid);
        }
    }
    let mut samples: BTreeMap<(Kind, Contender), Vec<f64>> = BTreeMap::new();
    for round in 0..settings.scale_rounds {
        for kind in KINDS {
            let mut order = CONTENDERS;
            order.rotate_left(round % CONTENDERS.len());
            for contender in order {
                let port = under_test.listener_port(contender.name());
                let sample = load::wrk(
                    &scripts[&kind],
                    port,
                    settings.scale_seconds,
                    connections,
                    deadline,
                    pid,
                );
                samples
                    .entry((kind, contender))
                    .or_default()
                    .push(sample.cpu_us);
            }
        }
    }
    drop(under_test);
    m.cpu = samples
        .into_iter()
        .map(|(key, values)| (key, crate::report::median(values)))
        .collect();
    if settings.callgrind_requests > 0 && instructions::available() {
        let counted = Callgrind::start(
            &envoy::binary(),
            bootstrap(&CONTENDERS, family, n, settings, up),
        );
        let count = settings.callgrind_requests.min(100);
        for kind in KINDS {
            let (request, host) = request(kind, family, n);
            let raw = request.to_keep_alive_bytes(&host);
            for contender in CONTENDERS {
                assert!(
                    Instant::now() < deadline,
                    "out of time: BENCH_SCALE_MAX_SECONDS reached"
                );
                let port = counted.port(contender.name());
                let per_request = counted.per_request(port, &raw, count, count);
                m.instructions.insert((kind, contender), per_request);
            }
        }
    }
    m
}

/// The core's parse and compile of `policy`, natively: the best of three.
fn configure_ms(policy: &str) -> f64 {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            let plugin = cors_core::Plugin::parse(policy.as_bytes());
            assert!(plugin.is_ok(), "the scale policy is refused");
            started.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

/// Resident memory of a process, in MB (`VmRSS`).
fn rss_mb(pid: u32) -> f64 {
    // Let Envoy finish what it does right after it is ready.
    std::thread::sleep(Duration::from_millis(500));
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One of a size's tables, by kind and contender.
type Pick = fn(&Measured) -> &BTreeMap<(Kind, Contender), f64>;

fn markdown(settings: &Settings, all: &[(Family, usize, Measured)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Each request names the last entry of its policy. CPU: median of {} rounds of {} s, µs of the Envoy under \
         test per request; instructions: callgrind, per request. × is the ratio to the same contender at size 1 \
         of the same kind of policy.\n",
        settings.scale_rounds, settings.scale_seconds
    );
    let _ = writeln!(
        out,
        "| Policy | Size | Request | native CPU | plugin CPU | module CPU | native instr. | plugin instr. | module instr. |"
    );
    let _ = writeln!(
        out,
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (family, n, m) in all {
        let base = all
            .iter()
            .find(|(f, size, _)| f == family && *size == 1)
            .map(|(_, _, m)| m);
        for kind in KINDS {
            // A value, and its ratio to the same contender at size 1.
            let cell = |pick: Pick, c: Contender, digits: usize| {
                let Some(value) = pick(m).get(&(kind, c)) else {
                    return "–".to_string();
                };
                let ratio = base
                    .filter(|_| *n > 1)
                    .and_then(|b| pick(b).get(&(kind, c)))
                    .filter(|b| **b > 0.0)
                    .map(|b| format!(" ({:.2}×)", value / b))
                    .unwrap_or_default();
                format!("{value:.digits$}{ratio}")
            };
            let (cpu, instr): (Pick, Pick) = (|m| &m.cpu, |m| &m.instructions);
            let _ = writeln!(
                out,
                "| {} | {n} | {} | {} | {} | {} | {} | {} | {} |",
                family.name(),
                kind.name(),
                cell(cpu, Contender::Native, 1),
                cell(cpu, Contender::Plugin, 1),
                cell(cpu, Contender::Module, 1),
                cell(instr, Contender::Native, 0),
                cell(instr, Contender::Plugin, 0),
                cell(instr, Contender::Module, 0),
            );
        }
    }
    let _ = writeln!(
        out,
        "\nLoading: the core's own parse and compile of the policy (natively), and each contender alone in a \
         fresh Envoy (`--concurrency 1`): time from start to ready and resident memory once ready.\n"
    );
    let _ = writeln!(
        out,
        "| Policy | Size | core configure | native ready · RSS | plugin ready · RSS | module ready · RSS |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for (family, n, m) in all {
        let start = |c: Contender| {
            m.start.get(&c).map_or("–".to_string(), |(ms, mb)| {
                format!("{ms:.0} ms · {mb:.0} MB")
            })
        };
        let _ = writeln!(
            out,
            "| {} | {n} | {:.1} ms | {} | {} | {} |",
            family.name(),
            m.configure_ms,
            start(Contender::Native),
            start(Contender::Plugin),
            start(Contender::Module),
        );
    }
    out
}
