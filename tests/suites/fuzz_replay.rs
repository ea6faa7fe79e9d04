//! The `decision` fuzz target's inputs, replayed through a real Envoy running
//! the form under test (`CORS_FORM`): the seeds in `fuzz/seeds/decision/` and
//! whatever `make fuzz` grew in `fuzz/corpus/decision/` (at most
//! `FUZZ_REPLAY_MAX`, 3000 by default). Each input is one byte choosing one of
//! the fuzzers' sample policies and a raw HTTP/1.1 request head, which is sent
//! to that policy's listener as the target reads it (`parse_raw_head`).
//!
//! Through Envoy the same invariants hold as in the core: no 5xx, and an
//! `access-control-allow-origin` is only ever `*` from a policy allowing any
//! origin, or an origin the request sent that the policy allows; and the
//! filter never failed: for the dynamic module, the Envoy process that started
//! is the one that answers at the end.

use crate::common;

use common::envoy::{self, Envoy};
use common::health::Health;
use common::http::{send_raw, Request};
use common::upstream::Upstream;
use cors_core::invariants::{parse_raw_head, SAMPLE_POLICIES};
use cors_core::Config;
use std::fs;
use std::time::{Duration, Instant};

/// The whole replay stops here, done or not (it says how far it got).
const TIME_LIMIT: Duration = Duration::from_secs(300);

fn inputs() -> Vec<(String, Vec<u8>)> {
    let max: usize = std::env::var("FUZZ_REPLAY_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut found = Vec::new();
    for dir in ["fuzz/seeds/decision", "fuzz/corpus/decision"] {
        let Ok(entries) = fs::read_dir(common::root().join(dir)) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let bytes = fs::read(&file).unwrap();
            found.push((
                format!("{dir}/{}", file.file_name().unwrap().to_string_lossy()),
                bytes,
            ));
        }
    }
    found.truncate(max);
    found
}

/// The request the fuzz target's `parse_raw_head` sees in the input, as a
/// complete HTTP/1.1 request: the header values the filter reads, byte for
/// byte (Envoy refuses those no HTTP request may carry, with a 400, before
/// any filter runs). A missing method is `GET`, a missing path `/`: the
/// decision reads them the same.
fn wire_bytes(head: &[u8]) -> Vec<u8> {
    let parsed = parse_raw_head(head);
    let or = |value: &[u8], default: &'static [u8]| -> Vec<u8> {
        if value.is_empty() {
            default.to_vec()
        } else {
            value.to_vec()
        }
    };
    let mut out = or(&parsed.method, b"GET");
    out.push(b' ');
    out.extend(or(&parsed.path, b"/"));
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend(or(&parsed.authority, b"localhost"));
    out.extend_from_slice(b"\r\n");
    let lines = [
        ("origin", &parsed.origin),
        ("access-control-request-method", &parsed.request_method),
        ("access-control-request-headers", &parsed.request_headers),
        (
            "access-control-request-private-network",
            &parsed.private_network,
        ),
    ];
    for (name, value) in lines {
        if let Some(value) = value {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Whether this `access-control-allow-origin` may come back for this request.
fn acao_is_sound(config: &Config, head: &[u8], acao: &str) -> bool {
    let policies = std::iter::once(&config.default)
        .chain(config.rules.iter().filter_map(|r| r.policy.as_ref()));
    let sent = head
        .windows(acao.len().max(1))
        .any(|w| w == acao.as_bytes());
    policies.into_iter().any(|p| {
        (acao == "*" && p.allows_any_origin()) || (sent && p.allows_origin(acao.as_bytes()))
    })
}

#[test]
fn fuzz_inputs_through_envoy_keep_the_invariants() {
    let configs: Vec<Config> = SAMPLE_POLICIES
        .iter()
        .map(|text| Config::parse(text.as_bytes()).unwrap())
        .collect();
    let upstream = Upstream::start();
    let listeners = SAMPLE_POLICIES
        .iter()
        .enumerate()
        .map(|(i, policy)| {
            let mut listener = envoy::listener(
                &format!("policy{i}"),
                vec![envoy::cors_filter(policy), envoy::router()],
                envoy::route_to("upstream"),
            );
            let hcm = &mut listener["filter_chains"][0]["filters"][0]["typed_config"];
            hcm["delayed_close_timeout"] = serde_json::json!("0s");
            hcm["http_protocol_options"] = serde_json::json!({"allow_custom_methods": true});
            listener
        })
        .collect();
    let envoy = Envoy::start(&envoy::bootstrap(
        listeners,
        vec![envoy::cluster("upstream", upstream.port)],
    ))
    .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let watches: Vec<Health> = (0..SAMPLE_POLICIES.len())
        .map(|i| Health::start(&envoy, &format!("policy{i}")))
        .collect();
    let pid = envoy.pid();
    let inputs = inputs();
    assert!(
        inputs.len() >= 9,
        "the seed corpus is missing: {} inputs",
        inputs.len()
    );
    let started = Instant::now();
    let (mut sent, mut answered, mut problems) = (0, 0, Vec::new());
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (name, data) in &inputs {
        if started.elapsed() > TIME_LIMIT {
            break;
        }
        let Some((&which, head)) = data.split_first() else {
            continue;
        };
        let i = usize::from(which) % SAMPLE_POLICIES.len();
        sent += 1;
        // Envoy may refuse a malformed head outright (400, or closing): not the filter's doing.
        let Ok(response) = send_raw(
            envoy.listener_port(&format!("policy{i}")),
            &wire_bytes(head),
        ) else {
            continue;
        };
        answered += 1;
        *statuses.entry(response.status).or_default() += 1;
        if response.status >= 500 {
            problems.push(format!("{name}: status {}", response.status));
        }
        for acao in response.all("access-control-allow-origin") {
            if !acao_is_sound(&configs[i], head, acao) {
                problems.push(format!("{name}: access-control-allow-origin {acao:?}"));
            }
        }
    }
    eprintln!(
        "{} form: {sent} of {} inputs replayed in {:.1} s, {answered} answered (statuses {statuses:?}), {} problems",
        common::form::Form::current().name(),
        inputs.len(),
        started.elapsed().as_secs_f64(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The same process answers as before, and no filter failed on the way.
    assert!(envoy.is_alive(), "Envoy {pid} is gone");
    assert_eq!(envoy.pid(), pid);
    let after = Request::preflight("/", "https://app.example.com", "PUT")
        .send(envoy.listener_port("policy0"));
    assert_eq!(after.status, 204);
    for watch in &watches {
        watch.assert_healthy(&envoy);
    }
}
