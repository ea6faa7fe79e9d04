//! Gateway API's `HTTPRoute` CORS filter (`rules[].filters[]` of `type:
//! CORS`) and Envoy Gateway's `SecurityPolicy` `spec.cors`, its `targetRefs`
//! resolved against the Gateways and HTTPRoutes of the same run.
//!
//! Gateway API does not decide by order: the most specific match wins (an
//! exact hostname over a wildcard, an exact path over a prefix, the longest
//! prefix first). The entries are sorted so that the first matching rule is
//! that one.

use crate::from_istio::duration_seconds;
use crate::input::{Document, Place};
use crate::source::{
    hostnames, string_list, At, Fields, Group, Platform, Scoped, SourceOrigin, SourcePolicy,
};
use serde_json::Value;

fn is_kind(value: &Value, kind: &str, group: &str) -> bool {
    value["kind"] == kind
        && value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with(group))
}

pub fn is_http_route(value: &Value) -> bool {
    is_kind(value, "HTTPRoute", "gateway.networking.k8s.io/")
}

pub fn is_gateway(value: &Value) -> bool {
    is_kind(value, "Gateway", "gateway.networking.k8s.io/")
}

pub fn is_security_policy(value: &Value) -> bool {
    is_kind(value, "SecurityPolicy", "gateway.envoyproxy.io/")
}

fn name(value: &Value) -> (&str, &str) {
    (
        value["metadata"]["namespace"].as_str().unwrap_or("default"),
        value["metadata"]["name"].as_str().unwrap_or(""),
    )
}

/// One match of a route rule: its path prefix, exactness, and the differences.
struct RouteMatch {
    prefix: Option<String>,
    exact: bool,
    place: Place,
    differences: Vec<(Place, String)>,
}

/// The matches of each rule of an HTTPRoute, `None` for one left out (regex).
fn rule_matches(
    rule: &Value,
    place: &Place,
    source: &str,
    notes: &mut Vec<(Place, String)>,
) -> Vec<RouteMatch> {
    let matches = rule["matches"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if matches.is_empty() {
        return vec![RouteMatch {
            prefix: None,
            exact: false,
            place: place.clone(),
            differences: Vec::new(),
        }];
    }
    let mut out = Vec::new();
    for (k, m) in matches.iter().enumerate() {
        let match_place = place.child(&format!("matches[{k}]"));
        let path = &m["path"];
        let value = path["value"].as_str().unwrap_or("/").to_string();
        let mut differences = Vec::new();
        let exact = match path["type"].as_str().unwrap_or("PathPrefix") {
            "Exact" => {
                differences.push((match_place.child("path"), format!("{source} matches the path {value:?} exactly; this filter's rule matches every path starting with it")));
                true
            }
            "RegularExpression" => {
                notes.push((match_place.child("path"), format!("{source} matches the path by regular expression, which a rule cannot say (it matches a host and a path prefix): left out, so its requests get the policy of a later rule")));
                continue;
            }
            _ => {
                // Gateway API's prefix matches whole path segments: /api matches
                // /api and /api/x, not /apix.
                if value != "/" && !value.ends_with('/') {
                    differences.push((match_place.child("path"), format!("{source}'s PathPrefix {value:?} matches whole path segments ({value} and {value}/..., not {value}x); this filter's rule matches every path starting with it")));
                }
                false
            }
        };
        for key in ["headers", "queryParams", "method"] {
            if m.get(key).is_some() {
                differences.push((match_place.child(key), format!("{source} also matches on {key}; this filter's rule matches on host and path only")));
            }
        }
        let prefix = (value != "/").then_some(value);
        out.push(RouteMatch {
            prefix,
            exact,
            place: match_place,
            differences,
        });
    }
    out
}

/// Sorts entries the way Gateway API picks among matches: exact hostnames
/// before wildcards before none, then exact paths, then longer prefixes.
fn sort(entries: &mut [(bool, Scoped)]) {
    entries.sort_by_key(|(exact, s)| {
        let host_rank = if s.hosts.is_empty() {
            2
        } else if s.hosts.iter().any(|h| h.value.starts_with('*')) {
            1
        } else {
            0
        };
        (
            host_rank,
            !exact,
            usize::MAX - s.path_prefix.as_ref().map_or(0, String::len),
        )
    });
}

/// An HTTPRoute's CORS filters, `None` when it has none.
pub fn read_http_route(document: &Document) -> Option<Group> {
    let route = &document.value;
    let root = &document.root;
    let rules = route["spec"]["rules"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let has_cors = rules.iter().any(|r| cors_filter(r).is_some());
    if !has_cors {
        return None;
    }
    let hosts = hostnames(&route["spec"]["hostnames"], "spec.hostnames", root);
    let mut notes = Vec::new();
    let mut entries = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let place = root.child(&format!("spec.rules[{i}]"));
        let policy = cors_filter(rule).map(|(j, cors)| {
            let cors_place = place.child(&format!("filters[{j}].cors"));
            SourcePolicy {
                platform: Platform::GatewayApi,
                place: cors_place.clone(),
                fields: fields(cors, &cors_place, Platform::GatewayApi),
            }
        });
        for m in rule_matches(rule, &place, "Gateway API", &mut notes) {
            entries.push((
                m.exact,
                Scoped {
                    hosts: hosts.clone(),
                    path_prefix: m.prefix,
                    policy: policy.clone(),
                    place: m.place,
                    match_differences: m.differences,
                },
            ));
        }
    }
    sort(&mut entries);
    Some(Group {
        platform: Platform::GatewayApi,
        place: root.clone(),
        scoped: entries.into_iter().map(|(_, s)| s).collect(),
        notes,
    })
}

fn cors_filter(rule: &Value) -> Option<(usize, &Value)> {
    rule["filters"]
        .as_array()?
        .iter()
        .enumerate()
        .find_map(|(j, f)| (f["type"] == "CORS").then(|| (j, &f["cors"])))
}

/// Envoy Gateway's SecurityPolicies with `spec.cors`, each resolved against
/// `documents` (all of the run) for its targets' hosts and paths.
pub fn read_security_policy(document: &Document, documents: &[Document]) -> Option<Group> {
    let policy_doc = &document.value;
    let root = &document.root;
    let cors = policy_doc["spec"].get("cors")?;
    let cors_place = root.child("spec.cors");
    let policy = SourcePolicy {
        platform: Platform::EnvoyGateway,
        place: cors_place.clone(),
        fields: fields(cors, &cors_place, Platform::EnvoyGateway),
    };
    let (namespace, _) = name(policy_doc);
    let mut refs: Vec<(Place, &Value)> = policy_doc["spec"]["targetRefs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, r)| (root.child(&format!("spec.targetRefs[{i}]")), r))
        .collect();
    if let Some(r) = policy_doc["spec"].get("targetRef") {
        refs.push((root.child("spec.targetRef"), r));
    }
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    for (ref_place, target) in refs {
        let kind = target["kind"].as_str().unwrap_or("");
        let target_name = target["name"].as_str().unwrap_or("");
        let found = documents.iter().find(|d| {
            d.value["kind"] == kind
                && name(&d.value) == (namespace, target_name)
                && (is_http_route(&d.value) || is_gateway(&d.value))
        });
        match (kind, found) {
            ("HTTPRoute", Some(route)) => {
                let hosts = hostnames(
                    &route.value["spec"]["hostnames"],
                    "spec.hostnames",
                    &route.root,
                );
                for (i, rule) in route.value["spec"]["rules"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    let place = route.root.child(&format!("spec.rules[{i}]"));
                    for m in rule_matches(rule, &place, "the HTTPRoute", &mut notes) {
                        entries.push((
                            m.exact,
                            Scoped {
                                hosts: hosts.clone(),
                                path_prefix: m.prefix,
                                policy: Some(policy.clone()),
                                place: m.place,
                                match_differences: m.differences,
                            },
                        ));
                    }
                }
            }
            ("Gateway", Some(gateway)) => {
                let listeners = gateway.value["spec"]["listeners"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let mut hosts = Vec::new();
                let mut all = listeners.is_empty();
                for (i, l) in listeners.iter().enumerate() {
                    match l["hostname"].as_str() {
                        Some(h) => hosts.push(At {
                            place: gateway.root.child(&format!("spec.listeners[{i}].hostname")),
                            value: h.to_string(),
                        }),
                        None => all = true,
                    }
                }
                let hosts = if all { Vec::new() } else { hosts };
                // A route's own policy is more specific: gateway-wide ones go last.
                entries.push((
                    false,
                    Scoped {
                        hosts,
                        path_prefix: None,
                        policy: Some(policy.clone()),
                        place: ref_place,
                        match_differences: Vec::new(),
                    },
                ));
            }
            _ => {
                notes.push((ref_place.clone(), format!("the target {kind} {target_name:?} is not among the files given: the policy is imported for every host and path (give the target's file too)")));
                entries.push((
                    false,
                    Scoped {
                        hosts: Vec::new(),
                        path_prefix: None,
                        policy: Some(policy.clone()),
                        place: ref_place,
                        match_differences: Vec::new(),
                    },
                ));
            }
        }
    }
    if entries.is_empty() {
        notes.push((root.child("spec"), "no targetRefs: the policy applies nowhere in Envoy Gateway; imported for every host and path".to_string()));
        entries.push((
            false,
            Scoped {
                hosts: Vec::new(),
                path_prefix: None,
                policy: Some(policy),
                place: root.clone(),
                match_differences: Vec::new(),
            },
        ));
    }
    sort(&mut entries);
    Some(Group {
        platform: Platform::EnvoyGateway,
        place: root.clone(),
        scoped: entries.into_iter().map(|(_, s)| s).collect(),
        notes,
    })
}

/// Gateway API's HTTPCORSFilter and Envoy Gateway's CORS: the same field names.
fn fields(cors: &Value, place: &Place, platform: Platform) -> Fields {
    let at = |name: &str| place.child(name);
    let list = |name: &str| string_list(cors, name, place);
    let mut origins = Vec::new();
    for (i, o) in cors["allowOrigins"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let origin_place = at(&format!("allowOrigins[{i}]"));
        let value = match o {
            Value::String(text) => origin_text(text),
            // Envoy Gateway before v1.0: {type: Exact|Prefix|Suffix|RegularExpression, value}.
            Value::Object(m) => {
                let text = m
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let kind = match m.get("type").and_then(Value::as_str).unwrap_or("Exact") {
                    "Prefix" => "prefix",
                    "Suffix" => "suffix",
                    "RegularExpression" => "regex",
                    _ => "exact",
                };
                SourceOrigin::Matcher {
                    kind,
                    value: text,
                    ignore_case: false,
                }
            }
            _ => continue,
        };
        origins.push(At {
            place: origin_place,
            value,
        });
    }
    let max_age = match (&cors["maxAge"], platform) {
        (Value::String(d), _) => Some((format!("{d:?}"), duration_seconds(d))),
        (Value::Number(n), _) => Some((n.to_string(), n.as_u64())),
        _ => None,
    };
    Fields {
        origins: (!origins.is_empty()).then_some(origins),
        methods: list("allowMethods"),
        headers: list("allowHeaders"),
        expose: list("exposeHeaders"),
        max_age: max_age.map(|value| At {
            place: at("maxAge"),
            value,
        }),
        credentials: cors["allowCredentials"].as_bool().map(|b| At {
            place: at("allowCredentials"),
            value: b,
        }),
        private_network: None,
        forward_unmatched: None,
        filter_enabled: None,
        shadow_enabled: None,
    }
}

/// An origin string with wildcards: `*`, `https://*` (every origin of that
/// scheme) or a `*` label. Envoy Gateway's without a scheme match any scheme:
/// its translator makes `*.foo.com` the regex `.*\.foo\.com` (dots escaped,
/// each `*` as `.*`), which is kept as it is.
fn origin_text(text: &str) -> SourceOrigin {
    match text.split_once("://") {
        Some((scheme, "*")) => SourceOrigin::Matcher {
            kind: "regex",
            value: format!("{scheme}://.+"),
            ignore_case: false,
        },
        None if text != "*" => SourceOrigin::Matcher {
            kind: "regex",
            value: text.replace('.', "\\.").replace('*', ".*"),
            ignore_case: false,
        },
        _ => SourceOrigin::Text(text.to_string()),
    }
}
