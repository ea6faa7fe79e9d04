//! `cors-check audit`: what is dangerous in the source's policies under the
//! source platform's own semantics, each finding with its severity, place and
//! a one-line fix.

use crate::input::Place;
use crate::probe::{self, Reach};
use crate::source::{Found, Platform, SourceOrigin, SourcePolicy};
use cors_core::origin_pattern::parse_pattern;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Danger,
    Warn,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Danger => "danger",
            Severity::Warn => "warn",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub place: Place,
    pub message: String,
    pub fix: String,
    /// A concrete origin the policy lets in, when one shows the danger.
    pub origin: Option<String>,
}

impl Finding {
    pub fn line(&self) -> String {
        format!(
            "{}: {}: {}; fix: {}",
            self.severity.name(),
            self.place,
            self.message,
            self.fix
        )
    }

    pub fn json(&self) -> Value {
        json!({
            "severity": self.severity.name(),
            "file": self.place.file,
            "document": self.place.document.trim_start_matches("document ").trim_end_matches(": ").parse::<u64>().unwrap_or(1),
            "path": self.place.path,
            "message": self.message,
            "fix": self.fix,
            "origin": self.origin,
        })
    }
}

/// Every finding, once each, dangers first, in file order within each.
pub fn audit(found: &Found) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for policy in found.policies() {
        for finding in policy_findings(policy) {
            if !findings.contains(&finding) {
                findings.push(finding);
            }
        }
    }
    findings.sort_by_key(|f| f.severity);
    findings
}

fn policy_findings(policy: &SourcePolicy) -> Vec<Finding> {
    let mut out = Vec::new();
    let f = &policy.fields;
    let platform = policy.platform;
    let source = platform.name();
    let credentials = f.credentials.as_ref().filter(|c| c.value);
    // Named where it is only when another policy (Envoy's virtual host) sets it.
    let origins_parent = f
        .origins
        .as_ref()
        .and_then(|o| o.first())
        .map(|o| parent(&o.place.path));
    let with_credentials = credentials.map(|c| match origins_parent {
        Some(p) if p == parent(&c.place.path) => "with allow_credentials".to_string(),
        _ => format!("with allow_credentials (at {})", c.place.path),
    });
    let mut finding =
        |severity, place: &Place, message: String, fix: &str, origin: Option<String>| {
            out.push(Finding {
                severity,
                place: place.clone(),
                message,
                fix: fix.to_string(),
                origin,
            });
        };
    let origins = f.origins.as_deref().unwrap_or_default();
    let mut usable = 0;
    for entry in origins {
        let shown = entry.value.shown();
        let place = &entry.place;
        if probe::allows_any(&entry.value, platform) {
            usable += 1;
            if let Some(with) = &with_credentials {
                let echo = if platform == Platform::GatewayApi {
                    "the implementation echoes the request's origin"
                } else {
                    "Envoy echoes the request's origin"
                };
                finding(Severity::Danger, place, format!("{shown} allows every origin {with}: {echo} with access-control-allow-credentials: true, so any website can read users' responses (e.g. https://evil-cors-probe.net)"), "list the exact origins that need cookies, e.g. \"https://app.example.com\"", Some("https://evil-cors-probe.net".to_string()));
            }
            if f.private_network.as_ref().is_some_and(|p| p.value) {
                finding(Severity::Danger, place, format!("{shown} allows every origin with allow_private_network_access: any website can reach this private network"), "list the origins that may reach it", Some("https://evil-cors-probe.net".to_string()));
            }
            continue;
        }
        if matches!(&entry.value, SourceOrigin::Text(t) if t == "null")
            || matches!(&entry.value, SourceOrigin::Matcher { kind: "exact", value, .. } if value == "null")
        {
            usable += 1;
            finding(Severity::Warn, place, format!("{shown} allows every sandboxed iframe, data: document and file: page: they all send Origin: null"), "remove it unless you mean all of them", None);
            continue;
        }
        if let Some(why) = never_sent(&entry.value) {
            finding(
                Severity::Warn,
                place,
                format!(
                    "{shown} never matches: no browser sends such an origin (the origin {why})"
                ),
                "write it as browsers send it: scheme://host[:port], lowercase, no path",
                None,
            );
            continue;
        }
        usable += 1;
        match probe::reach(&entry.value, platform) {
            Some(Reach::Foreign(origin)) => match &with_credentials {
                Some(with) => finding(Severity::Danger, place, format!("{shown} {with} also matches {origin:?}, a site its owner does not control, which can then read users' responses"), &safer(&entry.value), Some(origin)),
                None => finding(Severity::Warn, place, format!("{shown} also matches {origin:?}, a site its owner does not control (without credentials it reads only what needs no cookies)"), &safer(&entry.value), Some(origin)),
            },
            Some(Reach::Insecure(origin)) => {
                if let Some(with) = &with_credentials {
                    finding(Severity::Danger, place, format!("{shown} {with} matches {origin:?}, an http origin: anyone on the network path can impersonate it and read users' responses"), "use the https origin", Some(origin));
                }
            }
            None => {}
        }
    }
    // Gateway API's conformance test CORSAllowCredentialsBehavior has a filter
    // with allowCredentials and no allowOrigins answer any origin, echoed.
    if let (true, Platform::GatewayApi, Some(c)) = (origins.is_empty(), platform, credentials) {
        finding(Severity::Danger, &c.place, "allowCredentials: true without allowOrigins: Gateway API's conformance (CORSAllowCredentialsBehavior) has the implementation echo any request's origin with access-control-allow-credentials: true, so any website can read users' responses (e.g. https://evil-cors-probe.net)".to_string(), "list the exact origins that need cookies in allowOrigins, e.g. \"https://app.example.com\"", Some("https://evil-cors-probe.net".to_string()));
    }
    if !origins.is_empty() && usable == 0 {
        finding(
            Severity::Warn,
            &policy.place,
            "no browser can use this policy: none of its origins is one a browser sends"
                .to_string(),
            "list origins as browsers send them",
            None,
        );
    }
    if let Some(max_age) = &f.max_age {
        if let Some(seconds) = max_age.value.1.filter(|s| *s > 7200) {
            finding(Severity::Warn, &max_age.place, format!("max_age {seconds} s: browsers keep a preflight answer at most 7200 s (Chromium) or 86400 s (Firefox), and a policy you tighten stays cached that long"), "600 to 7200", None);
        }
    }
    let has_star = |list: &Option<crate::source::At<Vec<String>>>| {
        list.as_ref()
            .filter(|l| l.value.iter().any(|n| n == "*"))
            .map(|l| l.place.clone())
    };
    if let Some(place) = has_star(&f.headers) {
        match (&with_credentials, platform.is_envoy_filter()) {
            (Some(with), true) => finding(Severity::Warn, &place, format!("\"*\" {with}: browsers read it as a header named \"*\", so no header beyond the safelisted ones passes"), "list the header names", None),
            (None, true) => finding(Severity::Warn, &place, format!("\"*\": {source} answers access-control-allow-headers: *, which lets pages send any header, authorization too in Chromium"), "list the header names", None),
            _ => finding(Severity::Warn, &place, "\"*\" lets pages send any header they like".to_string(), "list the header names", None),
        }
    }
    if let (Some(place), Some(with), true) = (
        has_star(&f.methods),
        &with_credentials,
        platform.is_envoy_filter(),
    ) {
        finding(Severity::Warn, &place, format!("\"*\" {with}: browsers read it as a method named \"*\", so only GET, HEAD and POST pass"), "list the methods", None);
    }
    if let (Some(place), Some(with)) = (has_star(&f.expose), &with_credentials) {
        finding(
            Severity::Warn,
            &place,
            format!(
                "\"*\" {with}: browsers read it as a header named \"*\", so it exposes nothing"
            ),
            "list the header names",
            None,
        );
    }
    if let Some(methods) = &f.methods {
        for name in &methods.value {
            let upper = name.to_ascii_uppercase();
            if name != &upper
                && ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
                    .contains(&upper.as_str())
            {
                finding(Severity::Warn, &methods.place, format!("{name:?}: browsers compare methods case-sensitively and send {upper}, so it allows nothing"), &format!("write {upper:?}"), None);
            }
        }
    }
    out
}

/// `a.b.allow_origin_string_match[1]` → `a.b`.
fn parent(path: &str) -> &str {
    let path = match path.strip_suffix(']') {
        Some(indexed) => indexed.rsplit_once('[').map_or(path, |(p, _)| p),
        None => path,
    };
    path.rsplit_once('.').map_or("", |(p, _)| p)
}

/// Why a literal origin is one no browser sends (a path, a slash, uppercase...).
fn never_sent(entry: &SourceOrigin) -> Option<String> {
    let text = match entry {
        SourceOrigin::Matcher {
            kind: "exact",
            value,
            ignore_case,
        } => {
            if *ignore_case {
                value.to_ascii_lowercase()
            } else {
                value.clone()
            }
        }
        SourceOrigin::Text(text) if !text.contains('*') => text.clone(),
        _ => return None,
    };
    parse_pattern(&text).err()
}

/// A one-line fix for an entry that reaches too far.
fn safer(entry: &SourceOrigin) -> String {
    match entry {
        SourceOrigin::Matcher { kind: "prefix", value, .. }
            if parse_pattern(value).is_ok() && value.rsplit("//").next().is_some_and(|h| h.contains('.')) =>
        {
            format!("match it exactly: {{exact: {value:?}}}")
        }
        SourceOrigin::Matcher { kind: "regex", .. } => {
            "escape every dot (\\.) and anchor the host to your domain, e.g. https://([a-z0-9-]+\\.)*example\\.com".to_string()
        }
        SourceOrigin::Matcher { kind: "suffix", value, .. } if !value.starts_with('.') => {
            format!("start the suffix with a dot: \".{value}\", or list the origins")
        }
        _ => "list the exact origins (or a subdomain wildcard of a domain you own)".to_string(),
    }
}
