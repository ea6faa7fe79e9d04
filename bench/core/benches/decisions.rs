//! ns per decision of the core, natively: what the plugin computes per request,
//! without the Envoy host calls around it. `make bench-core`.

use cors_core::{response, Config};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

/// The policy of `make bench` (bench/envoy/).
const POLICY: &str = include_str!("../../policy.json");

fn config(json: &str) -> Config {
    match Config::parse(json.as_bytes()) {
        Ok(c) => c,
        Err(e) => panic!("bench policy refused: {e}"),
    }
}

/// 1,000 exact origins, as a large multi-tenant deployment might list.
fn thousand_origins() -> String {
    let origins: Vec<String> = (0..1000)
        .map(|i| format!("\"https://tenant-{i:04}.example.net\""))
        .collect();
    format!(
        r#"{{"allow_origins": [{}], "allow_methods": ["PUT"], "allow_headers": ["content-type"]}}"#,
        origins.join(", ")
    )
}

/// A 4 KiB `Access-Control-Request-Headers`: allowed names padded with
/// whitespace and empty elements up to the length limit, so every byte is read.
fn hostile_header_list() -> Vec<u8> {
    let mut list = Vec::new();
    while list.len() < 4096 - 64 {
        list.extend_from_slice(b"content-type ,\t");
        list.extend_from_slice(&[b' '; 40]);
        list.extend_from_slice(b", authorization,");
        list.extend_from_slice(&[b'\t'; 30]);
    }
    list.resize(4096 - 14, b' ');
    list.extend_from_slice(b",x-requested-w");
    list.truncate(4096);
    list
}

fn decisions(c: &mut Criterion) {
    let cfg = config(POLICY);
    let policy = &cfg.default;
    let origin = b"https://app.example.com".as_slice();
    let evil = b"https://evil.example".as_slice();
    let wildcard = b"https://api.example.com".as_slice();
    let requested = b"content-type, authorization".as_slice();

    c.bench_function("allowed preflight (check + 204 headers)", |b| {
        b.iter(|| {
            let o = black_box(origin);
            let verdict = policy.check_preflight(o, black_box(b"PUT"), Some(black_box(requested)));
            black_box(
                verdict.is_ok().then(|| {
                    response::preflight_allowed(policy, o, false, b"PUT", Some(requested))
                }),
            )
        })
    });
    c.bench_function("rejected preflight, origin (check + 403 headers)", |b| {
        b.iter(|| {
            let verdict = policy.check_preflight(
                black_box(evil),
                black_box(b"PUT"),
                Some(black_box(requested)),
            );
            black_box(
                verdict
                    .is_err()
                    .then(|| response::preflight_rejected(policy)),
            )
        })
    });
    c.bench_function("rejected preflight, header (check + 403 headers)", |b| {
        b.iter(|| {
            let verdict = policy.check_preflight(
                black_box(origin),
                black_box(b"PUT"),
                Some(black_box(b"content-type, x-secret")),
            );
            black_box(
                verdict
                    .is_err()
                    .then(|| response::preflight_rejected(policy)),
            )
        })
    });
    c.bench_function("actual request, allowed origin (match + headers)", |b| {
        b.iter(|| {
            let o = black_box(origin);
            let allowed = policy.allows_origin(o).then_some(o);
            black_box(response::actual(policy, allowed))
        })
    });
    c.bench_function("actual request, subdomain wildcard origin", |b| {
        b.iter(|| {
            let o = black_box(wildcard);
            let allowed = policy.allows_origin(o).then_some(o);
            black_box(response::actual(policy, allowed))
        })
    });

    let big = config(&thousand_origins());
    let listed = b"https://tenant-0777.example.net".as_slice();
    c.bench_function("1,000-origin list, allowed preflight", |b| {
        b.iter(|| {
            black_box(
                big.default
                    .check_preflight(black_box(listed), b"PUT", Some(b"content-type")),
            )
        })
    });
    c.bench_function("1,000-origin list, origin not listed", |b| {
        b.iter(|| {
            black_box(
                big.default
                    .allows_origin(black_box(b"https://tenant-9999.example.net")),
            )
        })
    });

    let hostile = hostile_header_list();
    assert_eq!(hostile.len(), 4096);
    c.bench_function("4 KiB hostile Access-Control-Request-Headers", |b| {
        b.iter(|| black_box(policy.check_preflight(origin, b"PUT", Some(black_box(&hostile)))))
    });
}

criterion_group! {
    name = benches;
    // Short runs: the numbers are stable to a few ns well within these times.
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = decisions
}
criterion_main!(benches);
