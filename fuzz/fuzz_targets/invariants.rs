// Each target uses part of this module.
#![allow(dead_code)]

//! What must hold of every decision, shared by the fuzz targets. A violated
//! invariant panics, which libFuzzer reports as a crash with its input.

use proxy_wasm_cors::decision::{decide, Decision, RequestHead};
use proxy_wasm_cors::origin;
use proxy_wasm_cors::response::{ALLOW_CREDENTIALS, ALLOW_ORIGIN, MANAGED};
use proxy_wasm_cors::{Config, Policy};

/// An `access-control-allow-origin` is either the request's own origin,
/// allowed by the policy that applied and a valid serialized origin, or `*`
/// from an allow-all policy without credentials. Credentials only go with the
/// exact origin, a `403` carries no CORS header, and every value is one a
/// header can carry.
pub fn check_decision(config: &Config, request: &RequestHead<'_>) {
    let selection = if config.has_rules() {
        config.select(request.authority, request.path)
    } else {
        config.select(b"", b"")
    };
    let decision = decide(config, request);
    let Some(policy) = selection.policy else {
        assert!(matches!(decision, Decision::Untouched));
        return;
    };
    let origin_allowed = request.origin.is_some_and(|o| policy.allows_origin(o));
    let written: Vec<(&str, &[u8])> = match &decision {
        Decision::Untouched => panic!("untouched under an enabled policy"),
        Decision::Forward { .. } => Vec::new(),
        Decision::Reply { status, .. } => {
            let headers = decision.reply_headers().unwrap_or([None; 8]);
            let written: Vec<_> = headers.iter().flatten().copied().collect();
            match status {
                204 => assert!(origin_allowed, "204 for a disallowed origin"),
                403 => assert!(
                    written
                        .iter()
                        .all(|(n, _)| !n.starts_with("access-control-")),
                    "CORS headers on a 403: {written:?}"
                ),
                other => panic!("status {other}"),
            }
            written
        }
        Decision::Actual { .. } => MANAGED
            .iter()
            .zip(decision.actual_plan().map_or([None; 7], |plan| plan.managed))
            .filter_map(|(name, value)| value.map(|v| (*name, v)))
            .collect(),
    };
    let acao = written
        .iter()
        .find(|(n, _)| *n == ALLOW_ORIGIN)
        .map(|(_, v)| *v);
    let acac = written.iter().any(|(n, _)| *n == ALLOW_CREDENTIALS);
    match acao {
        Some(b"*") => {
            assert!(
                policy.allows_any_origin() && !policy.credentials,
                "* without an allow-all policy"
            );
            assert!(!acac, "credentials with *");
        }
        Some(value) => {
            assert!(
                origin_allowed,
                "ACAO {:?} for a disallowed origin",
                String::from_utf8_lossy(value)
            );
            assert_eq!(
                Some(value),
                request.origin,
                "ACAO is not the request's origin"
            );
            assert!(
                value == b"null" || origin::parse(value).is_ok(),
                "ACAO is not a serialized origin"
            );
        }
        None => assert!(!acac, "credentials without ACAO"),
    }
    for (name, value) in &written {
        assert!(
            is_header_value(value),
            "{name} carries a byte a header value cannot"
        );
    }
}

/// Checks what a validated policy may never be.
pub fn check_policy(policy: &Policy, text: &[u8]) {
    if policy.credentials {
        assert!(!policy.allows_any_origin(), "credentials with *");
        assert!(
            !has_item(Some(&policy.allow_methods), "*"),
            "credentials with methods *"
        );
        assert!(
            !has_item(policy.allow_headers.as_ref(), "*"),
            "credentials with headers *"
        );
        assert!(
            !has_item(policy.expose_headers.as_ref(), "*"),
            "credentials with expose *"
        );
        // A matcher matching any origin is refused with credentials; the probe
        // origin itself may of course be listed on purpose.
        if !text.windows(10).any(|w| w == b"cors-probe") {
            assert!(
                !policy.allows_origin(proxy_wasm_cors::origin_pattern::PROBE_ORIGIN.as_bytes()),
                "credentials with a matcher matching any origin"
            );
        }
    }
    for value in [
        Some(&policy.allow_methods),
        policy.allow_headers.as_ref(),
        policy.expose_headers.as_ref(),
        policy.max_age.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            is_header_value(value.as_bytes()),
            "precomputed value {value:?}"
        );
    }
}

fn has_item(list: Option<&String>, item: &str) -> bool {
    list.is_some_and(|l| l.split(", ").any(|i| i == item))
}

/// Visible ASCII, spaces and tabs: never CR, LF or NUL (no header injection).
pub fn is_header_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b' ' || b == b'\t' || (0x21..0x7f).contains(&b))
}

/// Request header values parsed from a raw HTTP/1.1 head the way Envoy hands
/// them to the plugin: names case-insensitive, values trimmed, repeated
/// lines joined with `,`, the request line giving `:method` and `:path`.
#[derive(Debug, Default)]
pub struct RawHead {
    pub method: Vec<u8>,
    pub path: Vec<u8>,
    pub authority: Vec<u8>,
    pub origin: Option<Vec<u8>>,
    pub request_method: Option<Vec<u8>>,
    pub request_headers: Option<Vec<u8>>,
    pub private_network: Option<Vec<u8>>,
}

impl RawHead {
    pub fn parse(bytes: &[u8]) -> RawHead {
        let mut head = RawHead::default();
        let mut lines = bytes
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        if let Some(request_line) = lines.next() {
            let mut parts = request_line.splitn(3, |&b| b == b' ');
            head.method = parts.next().unwrap_or_default().to_vec();
            head.path = parts.next().unwrap_or_default().to_vec();
        }
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
            let slot = match name.to_ascii_lowercase().as_slice() {
                b"host" => {
                    head.authority = value.to_vec();
                    continue;
                }
                b"origin" => &mut head.origin,
                b"access-control-request-method" => &mut head.request_method,
                b"access-control-request-headers" => &mut head.request_headers,
                b"access-control-request-private-network" => &mut head.private_network,
                _ => continue,
            };
            match slot {
                Some(joined) => {
                    joined.push(b',');
                    joined.extend_from_slice(value);
                }
                None => *slot = Some(value.to_vec()),
            }
        }
        head
    }

    pub fn borrow(&self) -> RequestHead<'_> {
        RequestHead {
            method: &self.method,
            authority: &self.authority,
            path: &self.path,
            origin: self.origin.as_deref(),
            request_method: self.request_method.as_deref(),
            request_headers: self.request_headers.as_deref(),
            private_network: self.private_network.as_deref(),
        }
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}
