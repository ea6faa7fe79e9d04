//! The wildcard origins of one policy (`https://*.example.com`,
//! `http://localhost:*`, `https://*.example.com:8443`), found by index: by
//! host, or by each domain the origin's host is a subdomain of, with its
//! scheme, then by port. The cost does not grow with the number of wildcards.

use crate::origin::Origin;
use crate::origin_pattern::Wildcard;
use crate::sorted_map::{parent_domains, SortedMap};
use crate::sorted_names::SortedNames;
use std::cmp::Ordering;

/// `(host, scheme)`: the key wildcards are filed under.
type Key = (String, String);

#[derive(Debug, Clone, Default)]
pub struct WildcardIndex {
    /// Wildcards naming one host (`http://localhost:*`), by host and scheme.
    hosts: SortedMap<Key, Ports>,
    /// Subdomain wildcards (`https://*.example.com`), by base domain and scheme.
    subdomains: SortedMap<Key, Ports>,
    /// The longest base domain: no longer parent domain is looked up.
    longest_base: usize,
}

/// The ports the wildcards filed under one key allow.
#[derive(Debug, Clone, Default)]
struct Ports {
    /// `:*`: every port, the scheme's default included.
    any: bool,
    /// Explicit ports, and `""` for the scheme's default (no port written).
    listed: SortedNames,
}

impl WildcardIndex {
    pub fn new(wildcards: &[Wildcard]) -> WildcardIndex {
        // ((host or base, scheme), port), grouped below by key.
        let mut hosts: Vec<(Key, Option<Option<&str>>)> = Vec::new();
        let mut subdomains: Vec<(Key, Option<Option<&str>>)> = Vec::new();
        for w in wildcards {
            let (filed, host) = match w.subdomain_base() {
                Some(base) => (&mut subdomains, base),
                None => (&mut hosts, w.base_host()),
            };
            filed.push(((host.to_string(), w.scheme().to_string()), w.port()));
        }
        let longest_base = subdomains
            .iter()
            .map(|((b, _), _)| b.len())
            .max()
            .unwrap_or(0);
        WildcardIndex {
            hosts: by_key(hosts),
            subdomains: by_key(subdomains),
            longest_base,
        }
    }

    /// Whether a wildcard allows this (parsed, so lowercase) origin.
    pub fn allows(&self, origin: &Origin<'_>) -> bool {
        let port = origin.port.unwrap_or_default();
        let allowed = |map: &SortedMap<Key, Ports>, host: &[u8]| {
            map.find(|key| by_host_then_scheme(key, host, origin.scheme))
                .is_some_and(|ports| ports.any || ports.listed.contains(port))
        };
        (!self.hosts.is_empty() && allowed(&self.hosts, origin.host))
            || (!self.subdomains.is_empty()
                && parent_domains(origin.host, self.longest_base)
                    .any(|base| allowed(&self.subdomains, base)))
    }
}

/// The ports filed under each key: `None` is any port, `Some(None)` the default.
fn by_key(mut filed: Vec<(Key, Option<Option<&str>>)>) -> SortedMap<Key, Ports> {
    filed.sort_unstable();
    let groups = filed.chunk_by(|a, b| a.0 == b.0).map(|group| {
        let ports = Ports {
            any: group.iter().any(|(_, port)| port.is_none()),
            listed: SortedNames::new(
                group
                    .iter()
                    .filter_map(|(_, port)| port.map(|p| p.unwrap_or_default().to_string())),
            ),
        };
        (group[0].0.clone(), ports)
    });
    SortedMap::new(groups.collect())
}

/// `Key`'s order (host, then scheme), against a host and scheme in pieces.
fn by_host_then_scheme((host, scheme): &Key, want_host: &[u8], want_scheme: &[u8]) -> Ordering {
    host.as_bytes()
        .cmp(want_host)
        .then_with(|| scheme.as_bytes().cmp(want_scheme))
}
