// The indexes against the scans they replace: on random rule lists and
// random requests, `RuleIndex` selects exactly the rule a first-match scan of
// `rules` selects, and `WildcardIndex` allows exactly the origins some
// wildcard allows. The scans (`Rule::matches`, `Wildcard::matches`) exist only
// as these tests' reference. Case counts are fixed, so a run is reproducible
// in length.

use crate::config::Config;
use crate::origin;
use crate::origin_pattern::{parse_pattern, OriginPattern, Wildcard};
use crate::wildcard_index::WildcardIndex;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

/// Few names, so generated rules and requests overlap often: exact and
/// subdomain patterns of the same domains, an IDN label, hosts one label
/// apart, and `localhost`.
const DOMAINS: [&str; 8] = [
    "example.com",
    "api.example.com",
    "a.api.example.com",
    "example.net",
    "xn--bcher-kva.example",
    "tenant-7.example.com",
    "localhost",
    "com",
];

/// Prefixes that nest (`/a`, `/a/`, `/a/b`), share a start without nesting
/// (`/a` and `/ab`), and the root.
const PREFIXES: [&str; 8] = ["/", "/a", "/a/", "/a/b", "/ab", "/b", "/a/b/c", "/api/"];

const PATHS: [&str; 10] = [
    "/",
    "/a",
    "/a/b/c/d",
    "/a/bc",
    "/ab?x=1",
    "/b",
    "",
    "/api/items",
    "/c",
    "/a/",
];

/// Some letters of `text` in uppercase, chosen by `flips`.
fn recased(text: &str, flips: &[bool]) -> String {
    text.chars()
        .zip(flips.iter().cycle())
        .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
        .collect()
}

fn host_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (select(DOMAINS.to_vec()), prop::collection::vec(any::<bool>(), 1..4))
            .prop_map(|(d, flips)| recased(d, &flips)),
        3 => select(DOMAINS.to_vec()).prop_map(|d| format!("*.{d}")),
        1 => Just("*".to_string()),
        1 => select(DOMAINS.to_vec()).prop_map(|d| format!("{d}.")),
    ]
}

/// A rule: hosts, a path prefix, or both; sometimes CORS switched off.
fn rule() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop::collection::vec(host_pattern(), 1..4)),
        prop::option::of(select(PREFIXES.to_vec())),
        any::<bool>(),
        0..20u8,
    )
        .prop_map(|(hosts, prefix, hosts_if_none, enabled)| {
            let mut rule = serde_json::Map::new();
            let hosts = match (hosts, prefix) {
                (None, None) if hosts_if_none => Some(vec!["*".to_string()]),
                (hosts, _) => hosts,
            };
            let prefix = match (&hosts, prefix) {
                (None, None) => Some("/"),
                (_, prefix) => prefix,
            };
            if let Some(hosts) = hosts {
                rule.insert("hosts".into(), json!(hosts));
            }
            if let Some(prefix) = prefix {
                rule.insert("path_prefix".into(), json!(prefix));
            }
            if enabled == 0 {
                rule.insert("enabled".into(), json!(false));
            }
            Value::Object(rule)
        })
}

/// A request's `:authority`: a host of the list in any case, with a port, a
/// trailing dot, or neither; or something that is no host at all.
fn authority() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (
            select(DOMAINS.to_vec()),
            prop::collection::vec(any::<bool>(), 1..4),
            select(vec!["", ":8080", ".", ".:443", ":"]),
            select(vec!["", "x.", "a.b.", "-."]),
        )
            .prop_map(|(d, flips, end, sub)| format!("{sub}{}{end}", recased(d, &flips))),
        1 => select(vec!["[::1]:10000", "[::1", "", ".", "..example.com", "example.com:80:90"])
            .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The index selects what a first-match scan of `rules` selects.
    #[test]
    fn rule_index_selects_what_a_scan_selects(
        rules in prop::collection::vec(rule(), 1..12),
        requests in prop::collection::vec((authority(), select(PATHS.to_vec())), 1..8),
    ) {
        let document = json!({"allow_origins": ["https://app.example.com"], "rules": rules});
        let config = match Config::parse(document.to_string().as_bytes()) {
            Ok(config) => config,
            Err(errors) => panic!("{document}: {errors:?}"),
        };
        for (authority, path) in requests {
            let scanned = config
                .rules
                .iter()
                .position(|r| r.matches(authority.as_bytes(), path.as_bytes()));
            let indexed = config.select(authority.as_bytes(), path.as_bytes()).rule;
            prop_assert_eq!(indexed, scanned, "{} {} with {}", authority, path, document);
        }
    }
}

const SCHEMES: [&str; 3] = ["https", "http", "wss"];

fn wildcard() -> impl Strategy<Value = String> {
    (
        select(SCHEMES.to_vec()),
        select(DOMAINS[..6].to_vec()),
        any::<bool>(),
        select(vec!["", ":*", ":8443", ":3000"]),
    )
        .prop_map(|(scheme, domain, subdomains, port)| {
            // A wildcard has a `*` somewhere: the first label, the port or both.
            let port = if subdomains || !port.is_empty() {
                port
            } else {
                ":*"
            };
            let star = if subdomains { "*." } else { "" };
            format!("{scheme}://{star}{domain}{port}")
        })
}

fn request_origin() -> impl Strategy<Value = String> {
    (
        select(SCHEMES.to_vec()),
        select(vec!["", "x.", "a.b.", "api."]),
        select(DOMAINS.to_vec()),
        select(vec!["", ":8443", ":3000", ":1"]),
    )
        .prop_map(|(scheme, sub, domain, port)| format!("{scheme}://{sub}{domain}{port}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The wildcard index allows what some wildcard of the list allows.
    #[test]
    fn wildcard_index_allows_what_a_scan_allows(
        patterns in prop::collection::vec(wildcard(), 1..10),
        origins in prop::collection::vec(request_origin(), 1..8),
    ) {
        let wildcards: Vec<Wildcard> = patterns
            .iter()
            .filter_map(|p| match parse_pattern(p) {
                Ok(OriginPattern::Wildcard(w)) => Some(w),
                // A subdomain wildcard over a TLD (`*.com`) is refused.
                _ => None,
            })
            .collect();
        let index = WildcardIndex::new(&wildcards);
        for value in origins {
            let Ok(parsed) = origin::parse(value.as_bytes()) else {
                continue;
            };
            let scanned = wildcards.iter().any(|w| w.matches(&parsed));
            prop_assert_eq!(index.allows(&parsed), scanned, "{} with {:?}", value, patterns);
        }
    }
}
