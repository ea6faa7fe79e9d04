//! Istio's `VirtualService` `spec.http[].corsPolicy`: one rule per route
//! match, in the VirtualService's order (Istio applies the first matching
//! route), with its `hosts` and `match[].uri`.

use crate::input::{Document, Place};
use crate::source::{
    hostnames, string_list, At, Fields, Group, Platform, Scoped, SourceOrigin, SourcePolicy,
};
use serde_json::Value;

pub fn is_virtual_service(value: &Value) -> bool {
    value["kind"] == "VirtualService"
        && value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("networking.istio.io/"))
}

pub fn read(document: &Document) -> Option<Group> {
    let vs = &document.value;
    let root = &document.root;
    let hosts = hostnames(&vs["spec"]["hosts"], "spec.hosts", root);
    let routes = vs["spec"]["http"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let last = routes.iter().rposition(|r| r.get("corsPolicy").is_some())?;
    let mut scoped = Vec::new();
    let mut notes = Vec::new();
    for (i, route) in routes.iter().enumerate().take(last + 1) {
        let place = root.child(&format!("spec.http[{i}]"));
        let policy = route.get("corsPolicy").map(|p| SourcePolicy {
            platform: Platform::Istio,
            place: place.child("corsPolicy"),
            fields: fields(p, &place.child("corsPolicy")),
        });
        let matches = route["match"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if matches.is_empty() {
            scoped.push(Scoped {
                hosts: hosts.clone(),
                path_prefix: None,
                policy: policy.clone(),
                place: place.clone(),
                match_differences: Vec::new(),
            });
            continue;
        }
        for (k, m) in matches.iter().enumerate() {
            let match_place = place.child(&format!("match[{k}]"));
            let mut differences = Vec::new();
            let uri = &m["uri"];
            let prefix = if let Some(p) = uri["prefix"].as_str() {
                Some(p.to_string())
            } else if let Some(p) = uri["exact"].as_str() {
                differences.push((match_place.child("uri.exact"), format!("Istio's route matches the path {p:?} exactly; this filter's rule matches every path starting with it")));
                Some(p.to_string())
            } else if uri.get("regex").is_some() {
                notes.push((match_place.child("uri.regex"), "Istio's route matches the path by regex, which a rule cannot say (it matches a host and a path prefix): left out, so its requests get the policy of a later rule".to_string()));
                continue;
            } else {
                None
            };
            if let Some(object) = m.as_object() {
                for key in object
                    .keys()
                    .filter(|k| !matches!(k.as_str(), "uri" | "name" | "gateways"))
                {
                    differences.push((match_place.child(key), format!("Istio's route also matches on {key}; this filter's rule matches on host and path only")));
                }
            }
            let path_prefix = prefix.filter(|p| p != "/" && !p.is_empty());
            scoped.push(Scoped {
                hosts: hosts.clone(),
                path_prefix,
                policy: policy.clone(),
                place: match_place,
                match_differences: differences,
            });
        }
    }
    Some(Group {
        platform: Platform::Istio,
        place: root.clone(),
        scoped,
        notes,
    })
}

fn fields(policy: &Value, place: &Place) -> Fields {
    let at = |name: &str| place.child(name);
    let list = |name: &str| string_list(policy, name, place);
    let mut origins: Vec<At<SourceOrigin>> = Vec::new();
    for (i, m) in policy["allowOrigins"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let ignore_case = false;
        let origin = ["exact", "prefix", "regex"].into_iter().find_map(|kind| {
            m[kind].as_str().map(|v| SourceOrigin::Matcher {
                kind,
                value: v.to_string(),
                ignore_case,
            })
        });
        if let Some(value) = origin {
            origins.push(At {
                place: at(&format!("allowOrigins[{i}]")),
                value,
            });
        }
    }
    for (i, o) in policy["allowOrigin"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if let Some(o) = o.as_str() {
            origins.push(At {
                place: at(&format!("allowOrigin[{i}]")),
                value: SourceOrigin::Matcher {
                    kind: "exact",
                    value: o.to_string(),
                    ignore_case: false,
                },
            });
        }
    }
    let flag = |name: &str| {
        let v = &policy[name];
        v.as_bool().or_else(|| v["value"].as_bool()).map(|b| At {
            place: at(name),
            value: b,
        })
    };
    Fields {
        origins: (!origins.is_empty()).then_some(origins),
        methods: list("allowMethods"),
        headers: list("allowHeaders"),
        expose: list("exposeHeaders"),
        max_age: policy["maxAge"].as_str().map(|d| At {
            place: at("maxAge"),
            value: (format!("{d:?}"), duration_seconds(d)),
        }),
        credentials: flag("allowCredentials"),
        private_network: None,
        forward_unmatched: policy["unmatchedPreflights"]
            .as_str()
            .and_then(|u| match u {
                "FORWARD" => Some(At {
                    place: at("unmatchedPreflights"),
                    value: true,
                }),
                "IGNORE" => Some(At {
                    place: at("unmatchedPreflights"),
                    value: false,
                }),
                _ => None,
            }),
        filter_enabled: None,
        shadow_enabled: None,
    }
}

/// A duration as Istio and Envoy Gateway write it (`24h`, `1h30m`, `600s`,
/// `1.5s`, `500ms`), in whole seconds (rounded down).
pub fn duration_seconds(text: &str) -> Option<u64> {
    let mut total = 0.0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    Some(total as u64)
}
