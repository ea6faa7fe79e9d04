// Each target uses part of this module.
#![allow(dead_code)]

//! Shared by the fuzz targets: the crate's invariants (one definition, also
//! used by the property tests), turned into panics that libFuzzer reports as
//! crashes with their input, and a raw request head parsed as Envoy does.

use cors_core::decision::RequestHead;
use cors_core::invariants::{self, OwnedHead};
use cors_core::{Config, Policy};

pub fn check_decision(config: &Config, request: &RequestHead<'_>) {
    if let Err(broken) = invariants::check_decision(config, request) {
        panic!("{broken}: {request:?}");
    }
}

pub fn check_policy(policy: &Policy, text: &[u8]) {
    if let Err(broken) = invariants::check_policy(policy, text) {
        panic!("{broken}");
    }
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
