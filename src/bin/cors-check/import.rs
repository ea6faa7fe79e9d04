//! `cors-check import`: the source's policies as this filter's configuration,
//! rules in the order the source decides (the first rule that matches a
//! request is the policy the source applies to it), and every difference in
//! meaning, one line each.

use crate::input::Place;
use crate::source::{Found, Platform};
use crate::translate::{translate, Difference, Translated};
use cors_core::config::{POLICY_FIELDS, RULE_FIELDS};
use cors_core::rule::HostPattern;
use serde_json::{json, Map, Value};

/// What a rule writes for a field its policy leaves unset, so it does not
/// inherit the top level's (browsers cache a preflight 5 s without max-age).
fn neutral(field: &str) -> Value {
    match field {
        "max_age" => json!(5),
        "allow_credentials" | "allow_private_network" => json!(false),
        "unmatched_preflights" => json!("reject"),
        "mode" => json!("enforce"),
        _ => json!([]),
    }
}

pub struct Imported {
    /// The configuration, as ordered (key, value) pairs; `rules` last.
    pub top: Vec<(String, Value)>,
    pub rules: Vec<Vec<(String, Value)>>,
    pub differences: Vec<Difference>,
    /// Choices only the user can make; the configuration is not written.
    pub choices: Vec<Difference>,
}

/// What each platform's CORS answers differently from this filter, whatever
/// the policy: said once per platform.
fn platform_differences(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Envoy | Platform::Istio => &[
            "answers an allowed preflight 200; this filter answers 204 (browsers accept both)",
            "does not check the method and headers a preflight asks for (the browser then refuses the answer); this filter answers such a preflight 403",
            "leaves the upstream's CORS headers on responses to origins it does not allow; this filter removes them",
            "adds no Vary; this filter adds vary: origin where the answer depends on it",
        ],
        Platform::EnvoyGateway => &[
            "answers an allowed preflight 200; this filter answers 204 (browsers accept both)",
            "answers the preflights of origins not allowed itself, 200 without CORS headers (its translator sets Envoy's forward_not_matching_preflights: false); this filter answers them 403 without CORS headers (browsers refuse both)",
            "does not check the method and headers a preflight asks for (the browser then refuses the answer); this filter answers such a preflight 403",
            "leaves the upstream's CORS headers on responses to origins it does not allow; this filter removes them",
            "adds no Vary; this filter adds vary: origin where the answer depends on it",
        ],
        Platform::GatewayApi => &[
            "(its implementation) answers a refused preflight as it chooses; this filter answers 403 without CORS headers",
            "(its implementation) may leave the upstream's CORS headers; this filter replaces or removes them",
        ],
    }
}

pub fn import(found: &Found) -> Imported {
    let mut differences: Vec<Difference> = Vec::new();
    let mut choices = Vec::new();
    let mut rules: Vec<Map<String, Value>> = Vec::new();
    let mut platforms: Vec<Platform> = Vec::new();
    for (g, group) in found.groups.iter().enumerate() {
        if !platforms.contains(&group.platform) {
            platforms.push(group.platform);
        }
        if g > 0 && group.platform == Platform::Envoy {
            differences.push((
                group.place.clone(),
                "another route configuration (another listener in Envoy): its rules come after the previous one's, so where both match a request the earlier one's policy applies".to_string(),
            ));
        }
        differences.extend(group.notes.iter().cloned());
        for scoped in &group.scoped {
            differences.extend(scoped.match_differences.iter().cloned());
            let mut rule = Map::new();
            if !scoped.hosts.is_empty() {
                let mut hosts = Vec::new();
                for host in &scoped.hosts {
                    let name = host.value.trim_end_matches('.').to_ascii_lowercase();
                    match HostPattern::parse(&name) {
                        Ok(_) if !hosts.contains(&json!(name)) => hosts.push(json!(name)),
                        Ok(_) => {}
                        Err(why) => differences.push((
                            host.place.clone(),
                            format!("the host {:?} {why}: left out of the rule", host.value),
                        )),
                    }
                }
                if hosts.is_empty() {
                    differences.push((
                        scoped.place.clone(),
                        "no host of this entry can be written in a rule: left out, so its requests get the policy of a later rule".to_string(),
                    ));
                    continue;
                }
                rule.insert("hosts".into(), Value::Array(hosts));
            }
            if let Some(prefix) = &scoped.path_prefix {
                rule.insert("path_prefix".into(), json!(prefix));
            }
            match &scoped.policy {
                None => {
                    rule.insert("enabled".into(), json!(false));
                }
                Some(policy) => match translate(policy, &mut differences) {
                    Ok(Translated::Policy(fields)) => rule.extend(fields),
                    Ok(Translated::Disabled) => {
                        rule.insert("enabled".into(), json!(false));
                    }
                    Err(choice) => {
                        if !choices.contains(&choice) {
                            choices.push(choice);
                        }
                        continue;
                    }
                },
            }
            // A later rule for the same hosts and path is never reached.
            let scope =
                |r: &Map<String, Value>| (r.get("hosts").cloned(), r.get("path_prefix").cloned());
            if rules.iter().any(|r| scope(r) == scope(&rule)) {
                continue;
            }
            rules.push(rule);
        }
    }
    for platform in platforms {
        for text in platform_differences(platform) {
            differences.push((
                Place {
                    file: format!("(every {} policy)", platform.name()),
                    document: String::new(),
                    path: String::new(),
                },
                format!("{} {text}", platform.name()),
            ));
        }
    }
    let (top, rules) = top_level(rules, &mut differences);
    dedup(&mut differences);
    Imported {
        top: ordered(top),
        rules: rules.into_iter().map(ordered).collect(),
        differences,
        choices,
    }
}

fn dedup(items: &mut Vec<Difference>) {
    let mut seen = Vec::new();
    items.retain(|d| {
        let new = !seen.contains(d);
        if new {
            seen.push(d.clone());
        }
        new
    });
}

/// The last rule, when it matches every request with a policy, becomes the
/// top level; otherwise a last rule turns CORS off where the source has no
/// policy, and the top level (required, never reached) is the smallest one.
fn top_level(
    mut rules: Vec<Map<String, Value>>,
    differences: &mut Vec<Difference>,
) -> (Map<String, Value>, Vec<Map<String, Value>>) {
    let matches_all = |r: &Map<String, Value>| {
        r.get("path_prefix").is_none() && r.get("hosts").is_none_or(|h| h == &json!(["*"]))
    };
    let mut top = match rules.last() {
        Some(last) if matches_all(last) && !last.contains_key("enabled") => {
            let mut top = rules.pop().unwrap_or_default();
            top.remove("hosts");
            top
        }
        _ => Map::new(),
    };
    if top.is_empty() {
        let first_origin = rules
            .iter()
            .find_map(|r| r.get("allow_origins").and_then(|o| o.get(0)).cloned());
        if let Some(origin) = first_origin {
            top.insert("allow_origins".into(), json!([origin]));
            if !rules.last().is_some_and(matches_all) {
                rules.push(Map::from_iter([
                    ("hosts".to_string(), json!(["*"])),
                    ("enabled".to_string(), json!(false)),
                ]));
            }
            differences.push((
                Place { file: "(the imported configuration)".into(), document: String::new(), path: "allow_origins".into() },
                "the top-level policy is never used: the last rule matches every request the others do not (the source has no policy there), and the top level must still list an origin".to_string(),
            ));
        }
    }
    // Each rule says every field the top level sets, so none is inherited.
    for rule in &mut rules {
        if rule.contains_key("enabled") {
            continue;
        }
        if !rule.contains_key("hosts") && !rule.contains_key("path_prefix") {
            rule.insert("hosts".into(), json!(["*"]));
        }
        for field in top.keys() {
            if !rule.contains_key(field) {
                rule.insert(field.clone(), neutral(field));
            }
        }
    }
    (top, rules)
}

fn ordered(mut map: Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    // The README's order: a rule's own fields, then the policy's.
    for key in RULE_FIELDS.iter().chain(POLICY_FIELDS.iter()) {
        if let Some(v) = map.remove(*key) {
            out.push((key.to_string(), v));
        }
    }
    out.extend(map);
    out
}

/// The configuration as JSON text, fields in the README's order, one rule a line.
pub fn render(imported: &Imported) -> String {
    let pair = |(k, v): &(String, Value)| format!("{}: {}", json!(k), spaced(v));
    let mut lines: Vec<String> = imported
        .top
        .iter()
        .map(|p| format!("  {}", pair(p)))
        .collect();
    if !imported.rules.is_empty() {
        let rules: Vec<String> = imported
            .rules
            .iter()
            .map(|r| {
                format!(
                    "    {{{}}}",
                    r.iter().map(pair).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        lines.push(format!("  \"rules\": [\n{}\n  ]", rules.join(",\n")));
    }
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// Compact JSON with a space after each comma and colon, as the README writes it.
fn spaced(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(spaced).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", json!(k), spaced(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The whole thing to apply: `--as envoy|istio|gateway`.
pub fn wrap(json_text: &str, target: &str) -> Result<String, String> {
    let config: Value = serde_json::from_str(json_text).map_err(|e| e.to_string())?;
    let yaml = |v: &Value| serde_norway::to_string(v).map_err(|e| e.to_string());
    let indent = |text: String, by: &str| {
        text.lines()
            .map(|l| format!("{by}{l}\n"))
            .collect::<String>()
    };
    Ok(match target {
        "envoy" => format!(
            "# In http_filters, in place of envoy.filters.http.cors and before any authentication\n\
             # filter; remove the CorsPolicy entries of typed_per_filter_config. The module's\n\
             # form (envoy.filters.http.dynamic_modules) takes the same JSON: see the README.\n\
             - name: envoy.filters.http.wasm\n  typed_config:\n    \"@type\": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm\n    config:\n      name: cors\n      root_id: cors\n      vm_config:\n        runtime: envoy.wasm.runtime.v8\n        code: {{ local: {{ filename: dist/cors.wasm }} }}\n      configuration:\n        \"@type\": type.googleapis.com/google.protobuf.StringValue\n        value: |\n{}",
            indent(json_text.to_string(), "          ")
        ),
        "istio" => format!(
            "# Apply it, then remove the corsPolicy of the VirtualServices it was imported from.\n\
             apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata:\n  name: cors\n  namespace: istio-system\nspec:\n  selector:\n    matchLabels:\n      istio: ingressgateway\n  url: oci://REGISTRY/proxy-wasm-cors:{version}\n  phase: AUTHN\n  failStrategy: FAIL_CLOSE\n  pluginConfig:\n{}",
            indent(yaml(&config)?, "    "),
            version = cors_core::VERSION
        ),
        "gateway" => format!(
            "# Apply it, then remove the CORS this was imported from (SecurityPolicy spec.cors, HTTPRoute CORS filters).\n\
             apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyExtensionPolicy\nmetadata:\n  name: cors\n  namespace: default\nspec:\n  targetRefs:\n  - group: gateway.networking.k8s.io\n    kind: Gateway\n    name: GATEWAY\n  wasm:\n  - name: cors\n    rootID: cors\n    code:\n      type: Image\n      image:\n        url: REGISTRY/proxy-wasm-cors:{version}\n    failOpen: false\n    config:\n{}",
            indent(yaml(&config)?, "      "),
            version = cors_core::VERSION
        ),
        other => return Err(format!("--as {other}: use envoy, istio or gateway")),
    })
}
