//! One source policy as this filter's policy fields, with every difference in
//! meaning on the way. Whatever the core refuses is left out, with the core's
//! reason and the closest pattern it accepts; each field is checked by the
//! core itself (`Config::parse` of a one-field policy), never by a copy of
//! its rules.

use crate::input::Place;
use crate::source::{At, Platform, SourceOrigin, SourcePolicy};
use cors_core::origin_pattern::{parse_pattern, Matcher, OriginPattern};
use cors_core::token::normalize_method;
use cors_core::Config;
use serde_json::{json, Map, Value};

/// A difference in meaning: where, and what changes.
pub type Difference = (Place, String);

/// This filter's fields for one source policy.
pub enum Translated {
    Policy(Map<String, Value>),
    /// The source never applies the policy (`filter_enabled` 0%).
    Disabled,
}

/// `Err`: a choice only the user can make (every origin refused), and where.
pub fn translate(
    policy: &SourcePolicy,
    differences: &mut Vec<Difference>,
) -> Result<Translated, Difference> {
    let f = &policy.fields;
    let platform = policy.platform;
    let credentials = f.credentials();
    let private_network = f.private_network.as_ref().is_some_and(|p| p.value);
    let mut out = Map::new();
    if let Some(enabled) = &f.filter_enabled {
        let (percent, shown) = &enabled.value;
        match &f.shadow_enabled {
            _ if *percent > 0.0 => differences.push((
                enabled.place.clone(),
                format!("Envoy enforces the policy on {shown} of requests; this filter on every request"),
            )),
            Some(shadow) => {
                differences.push((
                    shadow.place.clone(),
                    format!("Envoy only evaluates the policy in shadow ({} of requests) and enforces it on none; this filter's policy is written in report mode: it decides and counts every request and changes none", shadow.value.1),
                ));
                out.insert("mode".into(), json!("report"));
            }
            None => {
                differences.push((
                    enabled.place.clone(),
                    format!("Envoy enforces the policy on {shown} of requests; this filter's rule is \"enabled\": false"),
                ));
                return Ok(Translated::Disabled);
            }
        }
    }
    if let (Some(shadow), Some(_) | None) = (&f.shadow_enabled, &f.filter_enabled) {
        if !out.contains_key("mode") {
            differences.push((
                shadow.place.clone(),
                format!("Envoy also evaluates the policy in shadow on {} of requests (stats only); this filter has no shadow: cors-check explain and its debug log show its decisions", shadow.value.1),
            ));
        }
    }

    // Origins.
    let mut origins = Vec::new();
    let mut refused = Vec::new();
    for origin in f.origins.iter().flatten() {
        match origin_value(&origin.value, platform) {
            Ok(value) => match check(&json!({
                "allow_origins": [value.clone()],
                "allow_credentials": credentials,
                "allow_private_network": private_network,
            })) {
                Ok(()) => {
                    if !origins.contains(&value) {
                        origins.push(value);
                    }
                }
                Err(why) => {
                    let closest = closest_safe(&origin.value)
                        .map_or(String::new(), |c| format!("; the closest it accepts: {c}"));
                    differences.push((
                        origin.place.clone(),
                        format!(
                            "{} answers {}; this filter refuses it ({why}): left out{closest}",
                            platform.name(),
                            origin.value.shown()
                        ),
                    ));
                    refused.push(origin.value.shown());
                }
            },
            Err(why) => {
                differences.push((
                    origin.place.clone(),
                    format!("{}: {why}: left out", origin.value.shown()),
                ));
                refused.push(origin.value.shown());
            }
        }
    }
    if origins.is_empty() {
        let place = f
            .origins
            .as_ref()
            .and_then(|o| o.first())
            .map_or_else(|| policy.place.clone(), |o| o.place.clone());
        let listed = if refused.is_empty() {
            "it lists none".to_string()
        } else {
            refused.join(", ")
        };
        return Err((
            place,
            format!(
                "no origin of this policy can be carried over ({listed}): choose the origins to allow (exact https origins, such as \"https://app.example.com\") and write them in the source, or in the imported configuration"
            ),
        ));
    }
    out.insert("allow_origins".into(), Value::Array(origins));

    // Methods, headers, exposed headers.
    if let Some(methods) = &f.methods {
        let kept = names(methods, "allow_methods", platform, credentials, differences);
        out.insert("allow_methods".into(), json!(kept));
    }
    if let Some(headers) = &f.headers {
        let kept = names(headers, "allow_headers", platform, credentials, differences);
        out.insert("allow_headers".into(), json!(kept));
    }
    if let Some(expose) = &f.expose {
        let kept = names(expose, "expose_headers", platform, credentials, differences);
        out.insert("expose_headers".into(), json!(kept));
    }
    if let Some(max_age) = &f.max_age {
        let (written, seconds) = &max_age.value;
        match seconds {
            Some(s) if *s > 86_400 => {
                differences.push((
                    max_age.place.clone(),
                    format!("{} sends max-age {s} (browsers cap it: Chromium at 7200, Firefox at 86400); this filter sends 86400", platform.name()),
                ));
                out.insert("max_age".into(), json!(86_400));
            }
            Some(s) => {
                out.insert("max_age".into(), json!(s));
            }
            None => differences.push((
                max_age.place.clone(),
                format!("{written} is not a whole number of seconds: left out (browsers then cache a preflight 5 s)"),
            )),
        }
    }
    if credentials {
        out.insert("allow_credentials".into(), json!(true));
    }
    if private_network {
        out.insert("allow_private_network".into(), json!(true));
    }
    unmatched(policy, &mut out, differences);
    Ok(Translated::Policy(out))
}

/// `Ok` when the core accepts `config`, else its first error's message.
fn check(config: &Value) -> Result<(), String> {
    match Config::parse(config.to_string().as_bytes()) {
        Ok(_) => Ok(()),
        Err(errors) => Err(errors.0.first().map_or_else(String::new, |e| {
            e.message
                .replace(" (at allow_credentials)", "")
                .replace(" (at allow_private_network)", "")
        })),
    }
}

/// The entry of `allow_origins` that means what the source's origin means.
fn origin_value(origin: &SourceOrigin, platform: Platform) -> Result<Value, String> {
    match origin {
        SourceOrigin::Matcher {
            kind,
            value,
            ignore_case,
        } => {
            let matcher = Matcher::new(kind, value, *ignore_case)
                .map_err(|why| format!("the {kind} {why}; rewrite it in regex-lite syntax (RE2's, without Unicode classes)"))?;
            // Envoy's filter also tries each matcher on the text "*": one that
            // matches it allows every origin.
            if platform.is_envoy_filter() && matcher.matches("*") {
                return Ok(json!("*"));
            }
            if *kind == "exact" {
                let text = if *ignore_case {
                    value.to_ascii_lowercase()
                } else {
                    value.clone()
                };
                return match parse_pattern(&text) {
                    Ok(OriginPattern::Exact(_) | OriginPattern::Null) => Ok(json!(text)),
                    Ok(_) => Ok(json!({"exact": value, "ignore_case": ignore_case})),
                    Err(why) => Err(format!(
                        "never matches an origin a browser sends: the origin {why}"
                    )),
                };
            }
            let mut object = Map::new();
            object.insert((*kind).to_string(), json!(value));
            if *ignore_case {
                object.insert("ignore_case".into(), json!(true));
            }
            Ok(Value::Object(object))
        }
        SourceOrigin::Text(text) => {
            if text == "*" {
                return Ok(json!("*"));
            }
            parse_pattern(text)
                .map(|_| json!(text))
                .map_err(|why| format!("never matches as written here: the origin {why}"))
        }
    }
}

/// The closest entry the core accepts, when there is one.
fn closest_safe(origin: &SourceOrigin) -> Option<String> {
    let text = match origin {
        SourceOrigin::Matcher {
            kind: "suffix",
            value,
            ..
        } => {
            return Some(format!(
                "\"https://YOUR-SITE{}\" for each site you mean",
                if value.starts_with('.') {
                    value.clone()
                } else {
                    format!(".{value}")
                }
            ));
        }
        SourceOrigin::Matcher {
            kind: "exact" | "prefix",
            value,
            ..
        } => value,
        SourceOrigin::Text(text) => text,
        SourceOrigin::Matcher { .. } => return None,
    };
    if let Some(rest) = text.strip_prefix("http://") {
        return Some(format!("\"https://{rest}\""));
    }
    let base = text.split_once("://*.")?;
    Some(format!(
        "\"{}://YOUR-SITE.{}\" for each site you mean",
        base.0, base.1
    ))
}

/// The names of one list the core keeps, each change said.
fn names(
    list: &At<Vec<String>>,
    field: &str,
    platform: Platform,
    credentials: bool,
    differences: &mut Vec<Difference>,
) -> Vec<String> {
    let source = platform.name();
    let mut kept: Vec<String> = Vec::new();
    for name in &list.value {
        if name == "*" {
            let envoy = platform.is_envoy_filter();
            let difference = match field {
                "allow_methods" if credentials && envoy => Some(format!("with credentials, browsers read {source}'s access-control-allow-methods: * as a method named \"*\", so only GET, HEAD and POST passed; this filter answers a preflight with the method it asks for")),
                "allow_headers" if credentials && envoy => Some(format!("with credentials, browsers read {source}'s access-control-allow-headers: * as a header named \"*\", so no header beyond the safelisted passed; this filter answers a preflight with the headers it asks for (authorization only if listed by name)")),
                "allow_headers" if envoy => Some(format!("{source} answers access-control-allow-headers: *, which Chromium lets cover authorization too; this filter's \"*\" never covers authorization (the Fetch standard's rule): list it by name")),
                _ => None,
            };
            if let Some(d) = difference {
                differences.push((list.place.clone(), d));
            }
            if field == "expose_headers" && credentials {
                differences.push((list.place.clone(), "with credentials, browsers read access-control-expose-headers: * as a header named \"*\", so it exposed nothing; left out".to_string()));
                continue;
            }
            if !kept.contains(name) {
                kept.push(name.clone());
            }
            continue;
        }
        let config = json!({"allow_origins": ["https://a.example"], field: [name]});
        if let Err(why) = check(&config) {
            differences.push((list.place.clone(), format!("{name:?} {why}: left out")));
            continue;
        }
        let normalized = if field == "allow_methods" {
            normalize_method(name)
        } else {
            name.to_ascii_lowercase()
        };
        if field == "allow_methods" && normalized != *name {
            differences.push((list.place.clone(), format!("browsers compare methods case-sensitively, so {source}'s {name:?} allowed no {normalized} request; this filter reads it as {normalized:?}, as browsers write it, and allows it")));
        }
        if !kept.contains(&normalized) {
            kept.push(normalized);
        }
    }
    kept
}

/// Preflights from origins not allowed: Envoy's filter forwards them by
/// default. Envoy Gateway's translator (internal/xds/translator/cors.go) sets
/// forward_not_matching_preflights: false on every policy: said once, with
/// the platform's differences.
fn unmatched(
    policy: &SourcePolicy,
    out: &mut Map<String, Value>,
    differences: &mut Vec<Difference>,
) {
    if !policy.platform.is_envoy_filter() || policy.platform == Platform::EnvoyGateway {
        return;
    }
    let (field, default_note) = match policy.platform {
        Platform::Istio => (
            "unmatchedPreflights",
            "unmatchedPreflights defaults to FORWARD",
        ),
        _ => (
            "forward_not_matching_preflights",
            "forward_not_matching_preflights defaults to true",
        ),
    };
    match &policy.fields.forward_unmatched {
        Some(At { value: false, .. }) => {}
        Some(At { place, value: true }) => {
            out.insert("unmatched_preflights".into(), json!("forward"));
            differences.push((
                place.clone(),
                format!("{} forwards the preflights of origins not allowed to the upstream ({field}); this filter's \"forward\" also forwards those asking for a method or header not allowed, which {} answers itself", policy.platform.name(), policy.platform.name()),
            ));
        }
        None => differences.push((
            policy.place.clone(),
            format!("{} forwards the preflights of origins not allowed to the upstream ({default_note}); this filter answers them 403 without CORS headers (\"unmatched_preflights\": \"forward\" would forward them)", policy.platform.name()),
        )),
    }
}
