// Property tests of the security invariants: generated origins, configurations
// and request bytes, each checked against what must always hold. Case counts
// are fixed (not time-based) so a run is reproducible in length.

use crate::config::Config;
use crate::invariants::{self, sample_configs, OwnedHead, SAMPLE_POLICIES};
use crate::origin_pattern::{parse_pattern, OriginSet};
use crate::policy::Policy;
use crate::request::RequestHead;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

// ---------------------------------------------------------------- strategies

/// A DNS label as browsers serialize it: lowercase letters, digits, inner hyphens.
/// Never `xn--…`: a browser only sends that prefix with valid punycode after it,
/// and the configuration refuses a pattern whose `xn--` label does not decode.
fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?".prop_filter("an xn-- label", |l| !l.starts_with("xn--"))
}

/// A top-level domain: letters, so the host is never read as an IPv4 address.
fn tld() -> impl Strategy<Value = String> {
    "[a-z]{2,6}"
}

/// A registrable domain such as `example.com` (one or two labels and a TLD).
fn domain() -> impl Strategy<Value = String> {
    (prop::collection::vec(label(), 1..=2), tld())
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

/// One to three labels to put in front of a domain.
fn subdomain() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..=3).prop_map(|labels| labels.join("."))
}

fn scheme() -> impl Strategy<Value = &'static str> {
    select(vec!["http", "https", "ws", "wss", "chrome-extension"])
}

/// A host as browsers serialize it: a domain, a dotted quad or a canonical IPv6.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => domain(),
        1 => any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
        // Rust writes IPv4-mapped addresses with dots (::ffff:1.2.3.4), the URL
        // standard in hex (::ffff:102:304); every other address alike.
        1 => any::<std::net::Ipv6Addr>()
            .prop_map(|ip| ip.to_string())
            .prop_filter("dotted IPv6", |ip| !ip.contains('.'))
            .prop_map(|ip| format!("[{ip}]")),
        1 => Just("localhost".to_string()),
    ]
}

/// A valid serialized origin: `scheme://host[:port]` without a default port.
fn origin() -> impl Strategy<Value = String> {
    (scheme(), host(), prop::option::of(1u16..=65535)).prop_map(|(scheme, host, port)| {
        let default = match scheme {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            _ => None,
        };
        match port {
            Some(p) if Some(p) != default => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        }
    })
}

/// Small edits a hostile or careless client makes to a valid origin.
fn mutate(origin: &str, edit: u8, position: usize, text: &str) -> Vec<u8> {
    let bytes = origin.as_bytes();
    let at = position % (bytes.len() + 1);
    let mut out = bytes.to_vec();
    match edit % 10 {
        0 => out.push(b'.'),
        1 => out.push(b'/'),
        2 => out.extend_from_slice(b":443"),
        3 => {
            if let Some(b) = out.get_mut(at) {
                *b = b.to_ascii_uppercase();
            }
        }
        4 => {
            out.remove(at.min(out.len() - 1));
        }
        5 => out.splice(at..at, text.bytes()).for_each(drop),
        6 => out.extend_from_slice(format!(".{text}").as_bytes()),
        7 => out.splice(0..0, text.bytes()).for_each(drop),
        8 => out.splice(at..at, [0xff, 0xfe]).for_each(drop),
        _ => out.extend_from_slice(format!(",{origin}").as_bytes()),
    }
    out
}

fn allowed(patterns: &[&str], value: &[u8]) -> bool {
    let patterns = patterns
        .iter()
        .map(|p| parse_pattern(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    OriginSet::new(patterns).allows(value)
}

// ------------------------------------------------------- origin patterns

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// `https://*.example.com` covers its subdomains, and never example.com
    /// itself, another registrable domain, or a host that only ends in the
    /// same characters (evilexample.com) or starts with them
    /// (example.com.evil.io).
    #[test]
    fn subdomain_wildcard_never_matches_bare_other_or_suffix_trick(
        scheme in select(vec!["http", "https"]),
        base in domain(),
        sub in subdomain(),
        other in domain(),
        glued in label(),
        evil_tld in tld(),
    ) {
        let pattern = format!("{scheme}://*.{base}");
        let p = [pattern.as_str()];
        // The pattern does match something: this property can fail.
        let covered = format!("{scheme}://{sub}.{base}");
        prop_assert!(allowed(&p, covered.as_bytes()), "{} did not match {}", pattern, covered);
        prop_assert!(!allowed(&p, format!("{scheme}://{base}").as_bytes()), "bare domain");
        prop_assert!(!allowed(&p, format!("{scheme}://{base}.").as_bytes()), "bare domain, trailing dot");
        if other != base && !other.ends_with(&format!(".{base}")) {
            prop_assert!(!allowed(&p, format!("{scheme}://{sub}.{other}").as_bytes()), "other domain {other}");
            prop_assert!(!allowed(&p, format!("{scheme}://{other}").as_bytes()), "other domain {other}");
        }
        let tricks = [
            format!("{scheme}://{glued}{base}"),
            format!("{scheme}://{sub}.{glued}{base}"),
            format!("{scheme}://{base}.{evil_tld}"),
            format!("{scheme}://{sub}.{base}.{evil_tld}"),
            format!("{scheme}://{sub}.{base}.{other}"),
            format!("{scheme}://{other}/.{base}"),
            format!("{scheme}://{other}?.{base}"),
            format!("{scheme}://{other}#.{base}"),
            format!("{scheme}://{sub}.{base}@{other}"),
            format!("{scheme}://{other}\\.{base}"),
            format!("{scheme}://{sub}.{base}:8443"),
            format!("{}://{sub}.{base}", if scheme == "http" { "https" } else { "http" }),
            format!("{}://{sub}.{base}", scheme.to_ascii_uppercase()),
            format!("{scheme}://{}.{base}", sub.to_ascii_uppercase()),
        ];
        for trick in tricks {
            // An uppercase label that was all digits is unchanged: skip that one.
            if trick == format!("{scheme}://{sub}.{base}") {
                continue;
            }
            prop_assert!(!allowed(&p, trick.as_bytes()), "{pattern} matched {trick}");
        }
    }

    /// An exact origin pattern matches that origin, byte for byte, and nothing else.
    #[test]
    fn exact_origin_matches_only_itself(
        listed in origin(),
        other in origin(),
        edit in any::<u8>(),
        position in any::<usize>(),
        text in "[a-zA-Z0-9.:/@-]{1,6}",
    ) {
        let p = [listed.as_str()];
        prop_assert!(allowed(&p, listed.as_bytes()));
        prop_assert_eq!(allowed(&p, other.as_bytes()), other == listed, "{} vs {}", listed, other);
        let mutated = mutate(&listed, edit, position, &text);
        prop_assert_eq!(
            allowed(&p, &mutated),
            mutated == listed.as_bytes(),
            "{} vs {:?}", listed, String::from_utf8_lossy(&mutated)
        );
    }

    /// What a set allows is always a valid serialized origin (or `null`),
    /// whatever bytes the request carries.
    #[test]
    fn only_valid_origins_are_ever_allowed(
        value in prop_oneof![
            origin().prop_map(String::into_bytes),
            (origin(), any::<u8>(), any::<usize>(), "[a-zA-Z0-9.:/@-]{1,6}")
                .prop_map(|(o, e, p, t)| mutate(&o, e, p, &t)),
            prop::collection::vec(any::<u8>(), 0..64),
        ],
    ) {
        let sets: [&[&str]; 4] = [
            &["*"],
            &["https://*.example.com:*", "http://localhost:*"],
            &["null", "https://app.example.com"],
            &["http://*.com.example"],
        ];
        for patterns in sets {
            if allowed(patterns, &value) && value != b"null" {
                prop_assert!(
                    crate::origin::parse(&value).is_ok(),
                    "{:?} allowed {:?}", patterns, String::from_utf8_lossy(&value)
                );
            }
        }
    }
}

// ------------------------------------------------------- configurations

/// A policy's fields, each drawn from values that include `"*"` and matchers
/// matching every origin, so credentialed combinations come up often.
fn policy_fields(top: bool) -> impl Strategy<Value = serde_json::Map<String, Value>> {
    let origins = prop_oneof![
        Just(json!(["*"])),
        Just(json!(["https://app.example.com", "https://*.example.com"])),
        Just(json!(["http://localhost:*", "null"])),
        Just(json!([{"regex": ".*"}])),
        Just(json!([{"regex": "https://.+"}])),
        Just(json!([{"prefix": "http"}])),
        Just(json!([{"suffix": ".example.com"}])),
        Just(json!([{"contains": ""}])),
        Just(json!(["https://app.example.com", "*"])),
    ];
    let names = |extra: &'static str| {
        prop_oneof![
            Just(json!([])),
            Just(json!(["*"])),
            Just(json!([extra])),
            Just(json!([extra, "*"])),
        ]
    };
    (
        prop::option::of(origins),
        prop::option::of(names("PUT")),
        prop::option::of(names("content-type")),
        prop::option::of(names("x-request-id")),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            move |(origins, methods, headers, expose, credentials, pna)| {
                let mut object = serde_json::Map::new();
                let fields = [
                    (
                        "allow_origins",
                        origins.or(top.then(|| json!(["https://a.example"]))),
                    ),
                    ("allow_methods", methods),
                    ("allow_headers", headers),
                    ("expose_headers", expose),
                    ("allow_credentials", credentials.map(Value::from)),
                    ("allow_private_network", pna.map(Value::from)),
                ];
                for (name, value) in fields {
                    if let Some(value) = value {
                        object.insert(name.to_string(), value);
                    }
                }
                object
            },
        )
}

fn configuration() -> impl Strategy<Value = Value> {
    let rule =
        (policy_fields(false), select(vec!["/api/", "/x"])).prop_map(|(mut fields, prefix)| {
            fields.insert("path_prefix".to_string(), json!(prefix));
            Value::Object(fields)
        });
    (policy_fields(true), prop::collection::vec(rule, 0..3)).prop_map(|(mut top, rules)| {
        if !rules.is_empty() {
            top.insert("rules".to_string(), Value::Array(rules));
        }
        Value::Object(top)
    })
}

fn every_policy(config: &Config) -> Vec<&Policy> {
    std::iter::once(&config.default)
        .chain(config.rules.iter().filter_map(|r| r.policy.as_ref()))
        .collect()
}

fn lists_star(value: &Option<String>) -> bool {
    value
        .as_deref()
        .is_some_and(|v| v.split(", ").any(|item| item == "*"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// No accepted configuration has a policy with credentials and `"*"` in
    /// its origins or exposed headers, or an origin matcher that matches any
    /// origin; its allowed preflights never answer `*` (the requested method
    /// and headers are echoed instead); and when the generator put a `*`
    /// origin with credentials, the refusal names the offending entry.
    #[test]
    fn star_with_credentials_never_validates(document in configuration()) {
        let text = document.to_string();
        match Config::parse(text.as_bytes()) {
            Ok(config) => {
                for policy in every_policy(&config) {
                    if policy.credentials {
                        prop_assert!(!policy.allows_any_origin(), "{}", text);
                        prop_assert!(!policy.allows_origin(b"https://anyone.invalid"), "{}", text);
                        prop_assert!(!lists_star(&policy.expose_headers), "{}", text);
                        let plan = crate::response::preflight_allowed(
                            policy, b"https://a.example", false, b"PATCH", Some(b"x-a, x-b"),
                        );
                        for (name, value) in plan.iter().flatten() {
                            prop_assert!(
                                !value.split(|&b| b == b',').any(|item| item.trim_ascii() == b"*"),
                                "{} answers {}: {:?}", text, name, String::from_utf8_lossy(value)
                            );
                        }
                    }
                }
            }
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for error in &errors.0 {
                    prop_assert!(!error.path.is_empty(), "{}", error);
                }
            }
        }
        // The simplest credentialed star, at the top level, is always refused.
        let mut starred = document.clone();
        starred["allow_credentials"] = json!(true);
        starred["allow_origins"] = json!(["*"]);
        let refused = Config::parse(starred.to_string().as_bytes());
        prop_assert!(refused.is_err(), "{}", starred);
        let listing = refused.err().map(|e| e.to_string()).unwrap_or_default();
        prop_assert!(
            listing.contains("allow_origins[0] = \"*\": is not allowed with allow_credentials: true"),
            "{}", listing
        );
    }

    /// Configuration parsing never panics on arbitrary bytes, and never
    /// accepts what is not a JSON object.
    #[test]
    fn configuration_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(config) = Config::parse(&bytes) {
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert!(value.is_object());
            prop_assert!(!config.default.allow_methods.is_empty());
        }
    }
}

// ------------------------------------------------------- decisions

fn configs() -> Vec<Config> {
    let configs = sample_configs();
    assert_eq!(configs.len(), SAMPLE_POLICIES.len());
    configs
}

/// Origins close to the allowed ones, valid ones, and any bytes.
fn request_origin() -> impl Strategy<Value = Vec<u8>> {
    let near = select(vec![
        "https://app.example.com",
        "https://api.example.com",
        "http://localhost:5173",
        "https://pr-7.preview.example.com",
        "https://admin.example.com",
        "null",
    ]);
    prop_oneof![
        2 => near.clone().prop_map(|s| s.as_bytes().to_vec()),
        3 => (near, any::<u8>(), any::<usize>(), "[a-zA-Z0-9.:/@-]{1,6}")
            .prop_map(|(o, e, p, t)| mutate(o, e, p, &t)),
        2 => origin().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..80),
    ]
}

fn bytes_or(values: Vec<&'static str>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(values).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..48),
    ]
}

fn head() -> impl Strategy<Value = OwnedHead> {
    (
        bytes_or(vec!["OPTIONS", "GET", "POST", "options", "PUT"]),
        bytes_or(vec![
            "localhost",
            "admin.example.com",
            "db.internal.example.com:80",
            "[::1]:10000",
        ]),
        bytes_or(vec!["/", "/api/x", "/public/feed"]),
        prop::option::weighted(0.9, request_origin()),
        prop::option::weighted(0.7, bytes_or(vec!["PUT", "GET", "PATCH", "CONNECT", "put"])),
        prop::option::of(bytes_or(vec![
            "content-type",
            "Content-Type, Authorization",
            "x-evil",
            ",,,,",
            "authorization",
        ])),
        prop::option::of(bytes_or(vec!["true", "false"])),
    )
        .prop_map(
            |(
                method,
                authority,
                path,
                origin,
                request_method,
                request_headers,
                private_network,
            )| OwnedHead {
                method,
                authority,
                path,
                origin,
                request_method,
                request_headers,
                private_network,
            },
        )
}

/// `invariants::check_decision`, as a proptest failure.
fn check_decision(config: &Config, request: &RequestHead<'_>) -> Result<(), TestCaseError> {
    invariants::check_decision(config, request).map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// A disallowed origin never gets `access-control-allow-origin` naming it,
    /// on preflights or actual responses, under any of the policies.
    #[test]
    fn disallowed_origin_never_gets_allow_origin(request in head()) {
        for config in &configs() {
            check_decision(config, &request.borrow())?;
        }
    }

    /// The decision never panics, whatever bytes each header carries.
    #[test]
    fn decision_never_panics_on_any_bytes(
        fields in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..96), 7),
        present in any::<[bool; 4]>(),
    ) {
        let head = OwnedHead {
            method: fields[0].clone(),
            authority: fields[1].clone(),
            path: fields[2].clone(),
            origin: present[0].then(|| fields[3].clone()),
            request_method: present[1].then(|| fields[4].clone()),
            request_headers: present[2].then(|| fields[5].clone()),
            private_network: present[3].then(|| fields[6].clone()),
        };
        for config in &configs() {
            check_decision(config, &head.borrow())?;
        }
    }
}
