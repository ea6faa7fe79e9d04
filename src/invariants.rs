//! The security invariants of every decision, checked by the property tests
//! and by every fuzz target from one definition. Native only.

use crate::decision::{decide, Decision};
use crate::origin;
use crate::origin_pattern::PROBE_ORIGIN;
use crate::request::RequestHead;
use crate::response::{ALLOW_CREDENTIALS, ALLOW_ORIGIN};
use crate::{Config, Policy};

/// Policies covering every branch of the decision: credentials, wildcards,
/// matchers, `null`, allow-all, forwarding, private network and rules.
pub const SAMPLE_POLICIES: [&str; 5] = [
    r#"{"allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*",
                          {"regex": "https://pr-[0-9]+\\.preview\\.example\\.com"}],
        "allow_methods": ["GET", "POST", "PUT", "DELETE"], "allow_headers": ["content-type", "authorization"],
        "expose_headers": ["x-request-id"], "max_age": 600, "allow_credentials": true}"#,
    r#"{"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"]}"#,
    r#"{"allow_origins": ["null", "https://app.example.com"], "unmatched_preflights": "forward",
        "allow_private_network": true}"#,
    r#"{"allow_origins": [{"suffix": ".example.com", "ignore_case": true}, {"prefix": "http://127.0.0.1:"}]}"#,
    r#"{"allow_origins": ["https://app.example.com"], "allow_credentials": true,
        "rules": [{"hosts": ["*.internal.example.com"], "enabled": false},
                  {"hosts": ["admin.example.com"], "path_prefix": "/api/", "allow_origins": ["https://admin.example.com"]},
                  {"path_prefix": "/public/", "allow_origins": ["*"], "allow_credentials": false}]}"#,
];

/// `SAMPLE_POLICIES`, parsed.
pub fn sample_configs() -> Vec<Config> {
    SAMPLE_POLICIES
        .iter()
        .filter_map(|text| Config::parse(text.as_bytes()).ok())
        .collect()
}

/// A request's header values, owned (generated or parsed by a test).
#[derive(Debug, Clone, Default)]
pub struct OwnedHead {
    pub method: Vec<u8>,
    pub authority: Vec<u8>,
    pub path: Vec<u8>,
    pub origin: Option<Vec<u8>>,
    pub request_method: Option<Vec<u8>>,
    pub request_headers: Option<Vec<u8>>,
    pub private_network: Option<Vec<u8>>,
}

impl OwnedHead {
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

fn ensure(holds: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if holds {
        Ok(())
    } else {
        Err(what())
    }
}

/// An `access-control-allow-origin` is either the request's own origin,
/// allowed by the policy that applied and a valid serialized origin, or `*`
/// from an allow-all policy without credentials. Credentials only go with the
/// exact origin, a `403` carries no CORS header, and every value is one a
/// header can carry.
pub fn check_decision(config: &Config, request: &RequestHead<'_>) -> Result<(), String> {
    let decision = decide(config, request);
    let Some(policy) = decision.policy() else {
        return ensure(matches!(decision, Decision::Untouched { .. }), || {
            format!("{decision:?} where CORS is off")
        });
    };
    let origin_allowed = request.origin.is_some_and(|o| policy.allows_origin(o));
    let written: Vec<(&str, &[u8])> = match &decision {
        Decision::Untouched { .. } => return Err("untouched under an enabled policy".to_string()),
        Decision::Forward { .. } => Vec::new(),
        Decision::Reply { status, .. } => {
            let headers = decision.reply_headers().unwrap_or([None; 8]);
            let written: Vec<_> = headers.iter().flatten().copied().collect();
            match status {
                204 => ensure(origin_allowed, || "204 for a disallowed origin".to_string())?,
                403 => ensure(
                    written
                        .iter()
                        .all(|(n, _)| !n.starts_with("access-control-")),
                    || format!("CORS headers on a 403: {written:?}"),
                )?,
                other => return Err(format!("status {other}")),
            }
            written
        }
        Decision::Actual { .. } => decision
            .actual_plan()
            .into_iter()
            .flat_map(|plan| plan.managed())
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect(),
    };
    let acao = written
        .iter()
        .find(|(n, _)| *n == ALLOW_ORIGIN)
        .map(|(_, v)| *v);
    let acac = written.iter().any(|(n, _)| *n == ALLOW_CREDENTIALS);
    match acao {
        Some(b"*") => {
            ensure(policy.allows_any_origin() && !policy.credentials, || {
                "* without an allow-all policy".to_string()
            })?;
            ensure(!acac, || "credentials with *".to_string())?;
        }
        Some(value) => {
            let shown = || String::from_utf8_lossy(value).into_owned();
            ensure(origin_allowed, || {
                format!("ACAO {:?} for a disallowed origin", shown())
            })?;
            ensure(Some(value) == request.origin, || {
                format!("ACAO {:?} is not the request's origin", shown())
            })?;
            ensure(value == b"null" || origin::parse(value).is_ok(), || {
                format!("ACAO {:?} is not a serialized origin", shown())
            })?;
        }
        None => ensure(!acac, || "credentials without ACAO".to_string())?,
    }
    for (name, value) in &written {
        ensure(is_header_value(value), || {
            format!("{name} carries a byte a header value cannot")
        })?;
        // With credentials browsers read `*` as a name: never sent then.
        let star = value
            .split(|&b| b == b',')
            .any(|item| item.trim_ascii() == b"*");
        ensure(!(acac && star), || format!("{name}: * with credentials"))?;
    }
    Ok(())
}

/// What a validated policy may never be. `text`: the configuration it came
/// from (a configuration may list the probe origin itself on purpose).
pub fn check_policy(policy: &Policy, text: &[u8]) -> Result<(), String> {
    if policy.credentials {
        ensure(!policy.allows_any_origin(), || {
            "credentials with *".to_string()
        })?;
        // `*` methods and headers are echoed with credentials (checked on
        // every answer in `check_decision`); exposed headers cannot be.
        let star = policy
            .expose_headers
            .as_ref()
            .is_some_and(|l| l.split(", ").any(|i| i == "*"));
        ensure(!star, || "credentials with expose *".to_string())?;
        if !text.windows(10).any(|w| w == b"cors-probe") {
            ensure(!policy.allows_origin(PROBE_ORIGIN.as_bytes()), || {
                "credentials with a matcher matching any origin".to_string()
            })?;
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
        ensure(is_header_value(value.as_bytes()), || {
            format!("precomputed value {value:?}")
        })?;
    }
    Ok(())
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
pub fn parse_raw_head(bytes: &[u8]) -> OwnedHead {
    let mut head = OwnedHead::default();
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
