//! A CORS policy as the source platform wrote it (Envoy, Istio, Envoy
//! Gateway, Gateway API), each field with its place, and where it applies:
//! what `import` translates and `audit` judges.

use crate::input::Place;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Envoy,
    Istio,
    EnvoyGateway,
    GatewayApi,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Envoy => "Envoy",
            Platform::Istio => "Istio",
            Platform::EnvoyGateway => "Envoy Gateway",
            Platform::GatewayApi => "Gateway API",
        }
    }

    /// Whether the platform answers with Envoy's own CORS filter, and so
    /// shares its behaviour (Istio and Envoy Gateway configure it).
    pub fn is_envoy_filter(self) -> bool {
        !matches!(self, Platform::GatewayApi)
    }
}

/// A value and where it was written.
#[derive(Debug, Clone)]
pub struct At<T> {
    pub place: Place,
    pub value: T,
}

/// One allowed origin, as the source writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOrigin {
    /// Envoy's StringMatcher and Istio's StringMatch: `kind` is exact,
    /// prefix, suffix, contains or regex (a full match).
    Matcher {
        kind: &'static str,
        value: String,
        ignore_case: bool,
    },
    /// Gateway API and Envoy Gateway: an origin, `*`, or one with a `*` label.
    Text(String),
}

impl SourceOrigin {
    /// As written, for messages: `prefix "https://app.example.com"`.
    pub fn shown(&self) -> String {
        match self {
            SourceOrigin::Matcher {
                kind,
                value,
                ignore_case,
            } => {
                let case = if *ignore_case { " (ignore_case)" } else { "" };
                format!("{kind} {value:?}{case}")
            }
            SourceOrigin::Text(text) => format!("{text:?}"),
        }
    }
}

/// A policy's fields; `None` where the source leaves a field unset, so that
/// Envoy's route and virtual host policies merge field by field.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub origins: Option<Vec<At<SourceOrigin>>>,
    pub methods: Option<At<Vec<String>>>,
    pub headers: Option<At<Vec<String>>>,
    pub expose: Option<At<Vec<String>>>,
    /// As written, and in whole seconds when it reads as a duration.
    pub max_age: Option<At<(String, Option<u64>)>>,
    pub credentials: Option<At<bool>>,
    pub private_network: Option<At<bool>>,
    /// Whether preflights from origins not allowed go on to the upstream.
    pub forward_unmatched: Option<At<bool>>,
    /// Envoy's `filter_enabled` and `shadow_enabled` when not 100%:
    /// (percent, as written).
    pub filter_enabled: Option<At<(f64, String)>>,
    pub shadow_enabled: Option<At<(f64, String)>>,
}

impl Fields {
    /// These fields over `base`, field by field (Envoy's precedence: the most
    /// specific policy that sets a field gives it).
    pub fn over(&self, base: &Fields) -> Fields {
        Fields {
            origins: self.origins.clone().or_else(|| base.origins.clone()),
            methods: self.methods.clone().or_else(|| base.methods.clone()),
            headers: self.headers.clone().or_else(|| base.headers.clone()),
            expose: self.expose.clone().or_else(|| base.expose.clone()),
            max_age: self.max_age.clone().or_else(|| base.max_age.clone()),
            credentials: self
                .credentials
                .clone()
                .or_else(|| base.credentials.clone()),
            private_network: self
                .private_network
                .clone()
                .or_else(|| base.private_network.clone()),
            forward_unmatched: self
                .forward_unmatched
                .clone()
                .or_else(|| base.forward_unmatched.clone()),
            // Envoy takes these from the most specific policy only.
            filter_enabled: self.filter_enabled.clone(),
            shadow_enabled: self.shadow_enabled.clone(),
        }
    }

    pub fn credentials(&self) -> bool {
        self.credentials.as_ref().is_some_and(|c| c.value)
    }
}

/// A policy of the source, ready to translate or judge.
#[derive(Debug, Clone)]
pub struct SourcePolicy {
    pub platform: Platform,
    /// Where the policy (the most specific part of it) is written.
    pub place: Place,
    pub fields: Fields,
}

/// Where a policy applies, in the order the source decides: the first entry
/// whose hosts and path prefix match a request is the one the source applies.
#[derive(Debug, Clone)]
pub struct Scoped {
    /// Host names as the source writes them; empty: every host.
    pub hosts: Vec<At<String>>,
    pub path_prefix: Option<String>,
    /// `None`: the source applies no CORS there.
    pub policy: Option<SourcePolicy>,
    /// Where the match is written (a route, a virtual host).
    pub place: Place,
    /// How the source's match differs from a host plus a path prefix.
    pub match_differences: Vec<(Place, String)>,
}

/// What the readers found in the files.
#[derive(Debug, Default)]
pub struct Found {
    /// In order, per group of inputs the source decides together (one Envoy
    /// route configuration, all Istio VirtualServices...).
    pub groups: Vec<Group>,
    /// Documents of kinds no reader takes: "FILE: document 2: ConfigMap x".
    pub skipped: Vec<String>,
}

#[derive(Debug)]
pub struct Group {
    pub platform: Platform,
    pub place: Place,
    pub scoped: Vec<Scoped>,
    /// Differences that belong to no entry (a route left out).
    pub notes: Vec<(Place, String)>,
}

impl Found {
    pub fn policies(&self) -> impl Iterator<Item = &SourcePolicy> {
        self.groups
            .iter()
            .flat_map(|g| g.scoped.iter())
            .filter_map(|s| s.policy.as_ref())
    }
}

/// A list of host names with where each was written; `*` among them means every host (empty).
pub fn hostnames(value: &Value, field: &str, place: &Place) -> Vec<At<String>> {
    let hosts: Vec<At<String>> = value
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            Some(At {
                place: place.child(&format!("{field}[{i}]")),
                value: h.as_str()?.to_string(),
            })
        })
        .collect();
    if hosts.iter().any(|h| h.value == "*") {
        Vec::new()
    } else {
        hosts
    }
}

/// A list of strings at `name` in `object`, with where it was written; `None`
/// when absent or empty (Istio's, Gateway API's and Envoy Gateway's lists alike).
pub fn string_list(object: &Value, name: &str, place: &Place) -> Option<At<Vec<String>>> {
    let items: Vec<String> = object[name]
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    (!items.is_empty()).then(|| At {
        place: place.child(name),
        value: items,
    })
}
