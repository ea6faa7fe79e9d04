//! Origin parsing and matching. Input: an origin pattern, a newline, then the
//! request's `Origin` bytes. A parsed origin re-serializes to its input; an
//! allowed origin is always a valid serialized origin (or `null`); an exact
//! pattern matches only itself; a subdomain wildcard only hosts under it.
#![no_main]

use cors_core::origin::{self, Origin};
use cors_core::origin_pattern::{parse_pattern, OriginPattern, OriginSet};
use libfuzzer_sys::fuzz_target;

/// A realistic list every input is also checked against.
const LISTED: [&str; 6] = [
    "https://app.example.com",
    "https://*.example.com",
    "http://localhost:*",
    "https://*.example.org:*",
    "http://[::1]:8080",
    "null",
];

fn serialize(o: &Origin<'_>) -> Vec<u8> {
    let mut out = [o.scheme, b"://", o.host].concat();
    if let Some(port) = o.port {
        out.push(b':');
        out.extend_from_slice(port);
    }
    out
}

fn set(patterns: &[&str]) -> OriginSet {
    OriginSet::new(
        patterns
            .iter()
            .filter_map(|p| parse_pattern(p).ok())
            .collect(),
    )
}

fuzz_target!(|data: &[u8]| {
    let (pattern, value) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let parsed = origin::parse(value);
    if let Ok(o) = parsed {
        assert_eq!(serialize(&o), value, "parse does not round-trip");
        assert!(!o.scheme.iter().any(u8::is_ascii_uppercase));
        assert!(!o.host.iter().any(u8::is_ascii_uppercase));
    }
    let valid = value == b"null" || parsed.is_ok();
    if set(&LISTED).allows(value) {
        assert!(valid, "allowed an invalid origin");
    }
    let Ok(pattern) = std::str::from_utf8(pattern) else {
        return;
    };
    let Ok(compiled) = parse_pattern(pattern) else {
        return;
    };
    let allowed = OriginSet::new(vec![compiled.clone()]).allows(value);
    if allowed {
        assert!(valid, "{pattern} allowed an invalid origin");
    }
    match compiled {
        OriginPattern::Exact(exact) => {
            assert_eq!(allowed, value == exact.as_bytes(), "exact {pattern}");
        }
        OriginPattern::Null => assert_eq!(allowed, value == b"null"),
        OriginPattern::Wildcard(_) if allowed => {
            // `scheme://*.base[:port|:*]`: same scheme, a host strictly under base.
            let o = parsed.expect("allowed, so parsed");
            let (scheme, rest) = pattern.split_once("://").expect("a wildcard has a scheme");
            assert_eq!(o.scheme, scheme.as_bytes(), "{pattern}: scheme");
            let host = match rest.find(']') {
                Some(i) => &rest[..=i],
                None => rest.split(':').next().unwrap_or(rest),
            };
            match host.strip_prefix("*.") {
                Some(base) => {
                    let suffix = format!(".{base}");
                    assert!(
                        o.host.ends_with(suffix.as_bytes()) && o.host.len() > suffix.len(),
                        "{pattern}: host"
                    );
                }
                None => assert_eq!(o.host, host.as_bytes(), "{pattern}: host"),
            }
        }
        _ => {}
    }
});
