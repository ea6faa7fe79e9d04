//! Envoy's CORS policies: `CorsPolicy` in `typed_per_filter_config` of a
//! route configuration, its virtual hosts and routes (or the deprecated `cors`
//! field), wherever a route configuration is: a bootstrap, an LDS or RDS
//! resource, or the bare route configuration.
//!
//! Envoy's precedence, which the order of the scoped entries keeps: the virtual
//! host whose domain matches most specifically (exact, then the longest
//! `*.suffix`, then `*`), then its first matching route; the policy is the
//! route's over the virtual host's over the route configuration's, field by
//! field (`filter_enabled` and `shadow_enabled` from the most specific one).

use crate::input::{Document, Place};
use crate::source::{At, Fields, Group, Platform, Scoped, SourceOrigin, SourcePolicy};
use crate::translate::Difference;
use serde_json::Value;

const CORS_POLICY_TYPE: &str = "envoy.extensions.filters.http.cors.v3.CorsPolicy";
const FILTER_CONFIG_TYPE: &str = "envoy.config.route.v3.FilterConfig";

/// Reads every route configuration in `document` into `groups`; whether any.
pub fn read(document: &Document, groups: &mut Vec<Group>) -> bool {
    let before = groups.len();
    walk(&document.value, &document.root, groups);
    groups.len() > before
}

fn walk(value: &Value, place: &Place, groups: &mut Vec<Group>) {
    match value {
        Value::Object(object) => {
            if object.get("virtual_hosts").is_some_and(Value::is_array) {
                if let Some(group) = route_configuration(value, place) {
                    groups.push(group);
                }
                return;
            }
            for (key, child) in object {
                walk(child, &place.child(key), groups);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &place.child(&format!("[{i}]")), groups);
            }
        }
        _ => {}
    }
}

/// How specific a domain is in Envoy's virtual host selection; lower first.
type Rank = (u8, usize);

fn domain_rank(domain: &str) -> Rank {
    if domain == "*" {
        (3, 0)
    } else if let Some(suffix) = domain.strip_prefix('*') {
        (1, usize::MAX - suffix.len())
    } else if domain.ends_with('*') {
        (2, usize::MAX - domain.len())
    } else {
        (0, 0)
    }
}

/// One virtual host's domains of one rank, with their scoped entries.
struct HostGroup {
    rank: Rank,
    scoped: Vec<Scoped>,
}

fn route_configuration(config: &Value, place: &Place) -> Option<Group> {
    let config_policy = typed_policy(config, place);
    let mut host_groups = Vec::new();
    let mut any_policy = config_policy.is_some();
    let mut notes = Vec::new();
    let virtual_hosts = config["virtual_hosts"].as_array().map(Vec::as_slice);
    for (i, vhost) in virtual_hosts.unwrap_or_default().iter().enumerate() {
        let vhost_place = place.child(&format!("virtual_hosts[{i}]"));
        let typed_vhost = typed_policy(vhost, &vhost_place);
        let deprecated_vhost = vhost
            .get("cors")
            .map(|p| fields(p, &vhost_place.child("cors")));
        let routes = vhost["routes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let route_policies: Vec<(Option<Fields>, Option<Fields>)> = routes
            .iter()
            .enumerate()
            .map(|(j, route)| {
                let route_place = vhost_place.child(&format!("routes[{j}]"));
                let typed = typed_policy(route, &route_place);
                let deprecated = route["route"]
                    .get("cors")
                    .map(|p| fields(p, &route_place.child("route.cors")));
                (typed, deprecated)
            })
            .collect();
        let has_policy = typed_vhost.is_some()
            || deprecated_vhost.is_some()
            || route_policies
                .iter()
                .any(|(t, d)| t.is_some() || d.is_some());
        any_policy |= has_policy;
        // The policy where a request matches route `j` (or no route: None).
        let effective = |route: Option<usize>| -> Option<SourcePolicy> {
            let (typed_route, deprecated_route) = match route {
                Some(j) => route_policies[j].clone(),
                None => (None, None),
            };
            let typed: Vec<Fields> = [typed_route, typed_vhost.clone(), config_policy.clone()]
                .into_iter()
                .flatten()
                .collect();
            let chain = if typed.is_empty() {
                [deprecated_route, deprecated_vhost.clone()]
                    .into_iter()
                    .flatten()
                    .collect()
            } else {
                typed
            };
            let merged = chain
                .iter()
                .rev()
                .fold(Fields::default(), |base, f| f.over(&base));
            let most_specific = chain.first()?;
            merged.origins.as_ref()?;
            let place = most_specific
                .origins
                .as_ref()
                .and_then(|o| o.first())
                .map_or_else(|| vhost_place.clone(), |o| o.place.clone());
            // The policy's own place: its origins' list's parent.
            let place = place
                .path
                .rsplit_once(".allow_origin_string_match")
                .map_or(place.clone(), |(p, _)| place.at(p));
            Some(SourcePolicy {
                platform: Platform::Envoy,
                place,
                fields: merged.over(&Fields {
                    filter_enabled: most_specific.filter_enabled.clone(),
                    shadow_enabled: most_specific.shadow_enabled.clone(),
                    ..Fields::default()
                }),
            })
        };
        if !has_policy {
            continue;
        }
        let mut by_rank: Vec<(Rank, Vec<At<String>>)> = Vec::new();
        let mut domain_differences = Vec::new();
        let domains = vhost["domains"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (k, domain) in domains.iter().enumerate() {
            let Some(domain) = domain.as_str() else {
                continue;
            };
            let domain_place = vhost_place.child(&format!("domains[{k}]"));
            let (host, port) = split_port(domain);
            if port {
                domain_differences.push((
                    domain_place.clone(),
                    format!("Envoy matches the domain {domain:?} on that port only; this filter's rule matches host {host:?} on every port"),
                ));
            }
            if domain != "*" && domain.ends_with('*') {
                domain_differences.push((
                    domain_place,
                    format!("Envoy matches the domain prefix {domain:?}; this filter's rules match host names and *.suffixes only, so it is left out: requests to those hosts get the policy of a later rule"),
                ));
                continue;
            }
            if let Some(rest) = host
                .strip_prefix('*')
                .filter(|r| !r.starts_with('.') && !r.is_empty())
            {
                domain_differences.push((
                    domain_place,
                    format!("Envoy matches every host ending in {rest:?}; this filter's rules match whole labels (*.example.com), so it is left out: requests to those hosts get the policy of a later rule"),
                ));
                continue;
            }
            let rank = domain_rank(host);
            let value = host.to_string();
            let at = At {
                place: vhost_place.child(&format!("domains[{k}]")),
                value,
            };
            match by_rank.iter_mut().find(|(r, _)| *r == rank) {
                Some((_, hosts)) => hosts.push(at),
                None => by_rank.push((rank, vec![at])),
            }
        }
        // The routes up to the last one with a policy of its own decide;
        // after them, the virtual host's policy holds.
        let last_own = route_policies
            .iter()
            .rposition(|(t, d)| t.is_some() || d.is_some());
        for (rank, hosts) in by_rank {
            let hosts = if hosts.iter().any(|h| h.value == "*") {
                Vec::new()
            } else {
                hosts
            };
            let mut scoped = Vec::new();
            let mut covers_all = false;
            for (j, route) in routes
                .iter()
                .enumerate()
                .take(last_own.map_or(0, |l| l + 1))
            {
                let route_place = vhost_place.child(&format!("routes[{j}]"));
                let (path_prefix, mut differences) = match route_match(route, &route_place) {
                    Ok(matched) => matched,
                    Err(left_out) => {
                        notes.push(left_out);
                        continue;
                    }
                };
                differences.extend(domain_differences.iter().cloned());
                covers_all |= path_prefix.is_none() && differences.is_empty();
                scoped.push(Scoped {
                    hosts: hosts.clone(),
                    path_prefix,
                    policy: effective(Some(j)),
                    place: route_place,
                    match_differences: differences,
                });
                if covers_all {
                    break;
                }
            }
            if !covers_all {
                scoped.push(Scoped {
                    hosts: hosts.clone(),
                    path_prefix: None,
                    policy: effective(None),
                    place: vhost_place.clone(),
                    match_differences: domain_differences.clone(),
                });
            }
            host_groups.push(HostGroup { rank, scoped });
        }
    }
    if !any_policy {
        return None;
    }
    // Stable: virtual hosts of equal rank keep their order.
    host_groups.sort_by_key(|g| g.rank);
    Some(Group {
        platform: Platform::Envoy,
        place: place.clone(),
        scoped: host_groups.into_iter().flat_map(|g| g.scoped).collect(),
        notes,
    })
}

/// `example.com:8080` → (`example.com`, true).
fn split_port(domain: &str) -> (&str, bool) {
    match domain.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit() || b == b'*') =>
        {
            (host, true)
        }
        _ => (domain, false),
    }
}

/// A route's match as a path prefix (`None`: every path), with what the
/// rule cannot say; `None` when the route cannot be written as a rule.
fn route_match(
    route: &Value,
    place: &Place,
) -> Result<(Option<String>, Vec<Difference>), Difference> {
    let matcher = &route["match"];
    let match_place = place.child("match");
    let mut differences = Vec::new();
    let prefix = if let Some(prefix) = matcher["prefix"].as_str() {
        prefix.to_string()
    } else if let Some(path) = matcher["path"].as_str() {
        differences.push((
            match_place.child("path"),
            format!("Envoy's route matches the path {path:?} exactly; this filter's rule matches every path starting with it"),
        ));
        path.to_string()
    } else if let Some(prefix) = matcher["path_separated_prefix"].as_str() {
        differences.push((
            match_place.child("path_separated_prefix"),
            format!("Envoy's route matches {prefix:?} and paths under {prefix:?}/; this filter's rule matches every path starting with {prefix:?}"),
        ));
        prefix.to_string()
    } else {
        let kind = ["safe_regex", "path_match_policy", "connect_matcher"]
            .into_iter()
            .find(|k| matcher.get(*k).is_some())
            .unwrap_or("match");
        differences.push((
            match_place.child(kind),
            format!("Envoy's route matches by {kind}, which a rule cannot say (it matches a host and a path prefix): left out, so its requests get the policy of a later rule"),
        ));
        return Err(differences.remove(0));
    };
    for extra in [
        "headers",
        "query_parameters",
        "grpc",
        "runtime_fraction",
        "dynamic_metadata",
        "tls_context",
        "filter_state",
    ] {
        if matcher.get(extra).is_some() {
            differences.push((
                match_place.child(extra),
                format!("Envoy's route also matches on {extra}; this filter's rule matches on host and path only, so it applies to every request on the path"),
            ));
        }
    }
    if matcher["case_sensitive"] == Value::Bool(false) {
        differences.push((
            match_place.child("case_sensitive"),
            "Envoy's route matches the path in any case; this filter's rule matches it case-sensitively".to_string(),
        ));
    }
    let prefix = match prefix.as_str() {
        "" | "/" => None,
        p if p.starts_with('/') => Some(p.to_string()),
        p => Some(format!("/{p}")),
    };
    Ok((prefix, differences))
}

/// The CORS policy in the `typed_per_filter_config` of `value`, if any.
fn typed_policy(value: &Value, place: &Place) -> Option<Fields> {
    let configs = value["typed_per_filter_config"].as_object()?;
    for (name, config) in configs {
        let config_place = place.child("typed_per_filter_config").child(name);
        let type_of = |v: &Value| {
            v["@type"]
                .as_str()
                .map(|t| t.rsplit('/').next().unwrap_or(t).to_string())
        };
        match type_of(config).as_deref() {
            Some(CORS_POLICY_TYPE) => return Some(fields(config, &config_place)),
            Some(FILTER_CONFIG_TYPE)
                if type_of(&config["config"]).as_deref() == Some(CORS_POLICY_TYPE) =>
            {
                return Some(fields(&config["config"], &config_place.child("config")));
            }
            _ => {}
        }
    }
    None
}

/// A `CorsPolicy` (or the deprecated `cors` field's `CorsPolicy`) at `place`.
fn fields(policy: &Value, place: &Place) -> Fields {
    let at = |name: &str| place.child(name);
    let list = |name: &str| -> Option<At<Vec<String>>> {
        let text = policy[name].as_str()?;
        let items: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        // Envoy sends nothing for an empty string: the field is unset.
        (!items.is_empty()).then(|| At {
            place: at(name),
            value: items,
        })
    };
    let flag = |name: &str| -> Option<At<bool>> {
        let value = &policy[name];
        let b = value.as_bool().or_else(|| value["value"].as_bool())?;
        Some(At {
            place: at(name),
            value: b,
        })
    };
    let origins = policy["allow_origin_string_match"].as_array().map(|items| {
        items
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let place = at(&format!("allow_origin_string_match[{i}]"));
                string_matcher(m).map(|value| At { place, value })
            })
            .collect::<Vec<_>>()
    });
    Fields {
        origins: origins.filter(|o| !o.is_empty()),
        methods: list("allow_methods"),
        headers: list("allow_headers"),
        expose: list("expose_headers"),
        max_age: policy["max_age"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|text| At {
                place: at("max_age"),
                value: (format!("{text:?}"), text.trim().parse::<u64>().ok()),
            }),
        credentials: flag("allow_credentials"),
        private_network: flag("allow_private_network_access"),
        forward_unmatched: flag("forward_not_matching_preflights"),
        filter_enabled: fraction(&policy["filter_enabled"], at("filter_enabled")),
        shadow_enabled: fraction(&policy["shadow_enabled"], at("shadow_enabled")),
    }
}

/// A `StringMatcher` as a source origin.
pub fn string_matcher(m: &Value) -> Option<SourceOrigin> {
    let ignore_case = m["ignore_case"].as_bool().unwrap_or(false);
    for kind in ["exact", "prefix", "suffix", "contains"] {
        if let Some(value) = m[kind].as_str() {
            return Some(SourceOrigin::Matcher {
                kind,
                value: value.to_string(),
                ignore_case,
            });
        }
    }
    let regex = m["safe_regex"]["regex"].as_str()?;
    Some(SourceOrigin::Matcher {
        kind: "regex",
        value: regex.to_string(),
        ignore_case,
    })
}

/// A `RuntimeFractionalPercent` below 100%, as (percent, as written).
fn fraction(value: &Value, place: Place) -> Option<At<(f64, String)>> {
    let default = value.get("default_value")?;
    let numerator = default["numerator"].as_f64().unwrap_or(0.0);
    let denominator = match default["denominator"].as_str() {
        Some("TEN_THOUSAND") => 10_000.0,
        Some("MILLION") => 1_000_000.0,
        _ => 100.0,
    };
    let percent = 100.0 * numerator / denominator;
    let runtime = value["runtime_key"].as_str();
    if percent >= 100.0 && runtime.is_none() {
        return None;
    }
    let shown = match runtime {
        Some(key) => format!("{percent}% (runtime key {key:?} may change it)"),
        None => format!("{percent}%"),
    };
    Some(At {
        place,
        value: (percent, shown),
    })
}
