//! Finds, by trying, a concrete origin a source's origin entry allows on a
//! site its owner does not control: what `audit` shows for a prefix, suffix,
//! contains or regex matcher, or a wildcard, that reaches too far.

use crate::source::{Platform, SourceOrigin};
use cors_core::origin;
use cors_core::origin_pattern::{parse_pattern, Matcher, OriginSet, PROBE_ORIGIN};
use cors_core::public_suffix;

/// The attacker's own domain in the probes: a name anyone can register.
const ATTACKER: &str = "evil-cors-probe.net";

/// Whether the entry allows `candidate` under the source platform's semantics.
pub fn allows(entry: &SourceOrigin, platform: Platform, candidate: &str) -> bool {
    match entry {
        SourceOrigin::Matcher {
            kind,
            value,
            ignore_case,
        } => Matcher::new(kind, value, *ignore_case)
            .is_ok_and(|m| m.matches(candidate) || (platform.is_envoy_filter() && m.matches("*"))),
        SourceOrigin::Text(text) if text == "*" => true,
        SourceOrigin::Text(text) => {
            parse_pattern(text).is_ok_and(|p| OriginSet::new(vec![p]).allows(candidate.as_bytes()))
        }
    }
}

/// Whether the entry allows every origin (even one nobody would list).
pub fn allows_any(entry: &SourceOrigin, platform: Platform) -> bool {
    allows(entry, platform, PROBE_ORIGIN)
}

/// The domains the entry's text names (`app.example.com` in
/// `https://app\.example\.com`), lowercase, regex escapes of dots undone.
fn named_domains(text: &str) -> Vec<String> {
    let text = text.replace("\\.", ".").to_ascii_lowercase();
    let text = text.split("://").last().unwrap_or(&text).to_string();
    let mut domains: Vec<String> = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')) {
        let word = word.trim_matches('.');
        if word.contains('.') && !domains.iter().any(|d| d == word) {
            domains.push(word.to_string());
        }
    }
    domains
}

/// The registrable domain of `host`: one label more than its public suffix.
pub fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    for start in 0..labels.len() {
        let suffix = labels[start..].join(".");
        if public_suffix::is_public_suffix(&suffix) || start + 1 == labels.len() {
            let from = start.saturating_sub(1);
            return labels[from..].join(".");
        }
    }
    host.to_string()
}

/// Origins to try: around the domains the entry names, and generic ones.
fn candidates(entry: &SourceOrigin) -> Vec<String> {
    let text = match entry {
        SourceOrigin::Matcher { value, .. } => value.clone(),
        SourceOrigin::Text(text) => text.clone(),
    };
    let mut hosts = vec![ATTACKER.to_string()];
    for domain in named_domains(&text) {
        // An unescaped dot in a regex matches any character: every dot but
        // the last, one at a time, as a letter.
        let dots: Vec<usize> = domain.match_indices('.').map(|(i, _)| i).collect();
        let mut variants = vec![domain.clone()];
        for &at in dots.iter().take(dots.len().saturating_sub(1)) {
            variants.push(format!("{}x{}", &domain[..at], &domain[at + 1..]));
        }
        for variant in variants {
            hosts.push(format!("{variant}.{ATTACKER}"));
            hosts.push(format!("evil{variant}"));
            hosts.push(format!("evil-{variant}"));
            hosts.push(format!("evil.{variant}"));
            hosts.push(variant);
        }
    }
    let mut out = Vec::new();
    // A prefix, or a regex's literal start, continued onto the attacker's domain.
    if let SourceOrigin::Matcher {
        kind: "prefix",
        value,
        ..
    } = entry
    {
        out.push(format!("{value}.{ATTACKER}"));
        out.push(format!("{value}1.{ATTACKER}"));
        out.push(format!("{value}{ATTACKER}"));
    }
    for host in hosts {
        for scheme in ["https", "http"] {
            out.push(format!("{scheme}://{host}"));
        }
    }
    out.push(PROBE_ORIGIN.to_string());
    out
}

/// What a probe found.
pub enum Reach {
    /// An https origin on a domain the owner does not control.
    Foreign(String),
    /// An http origin (not loopback): anyone on the network path can be it.
    Insecure(String),
}

/// The first origin the entry allows that its owner cannot vouch for.
pub fn reach(entry: &SourceOrigin, platform: Platform) -> Option<Reach> {
    let text = match entry {
        SourceOrigin::Matcher { value, .. } => value.clone(),
        SourceOrigin::Text(text) => text.clone(),
    };
    let owned: Vec<String> = named_domains(&text)
        .iter()
        .map(|d| registrable(d))
        .filter(|r| !public_suffix::is_public_suffix(r))
        .collect();
    let controlled = |host: &str| {
        owned
            .iter()
            .any(|r| host == r || host.ends_with(&format!(".{r}")))
    };
    let mut insecure = None;
    for candidate in candidates(entry) {
        let Ok(parsed) = origin::parse(candidate.as_bytes()) else {
            continue;
        };
        if !allows(entry, platform, &candidate) {
            continue;
        }
        let host = String::from_utf8_lossy(parsed.host).into_owned();
        // A name someone could register: no empty label, none with a hyphen at an end.
        let registrable_name = host
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !registrable_name {
            continue;
        }
        let https = parsed.scheme == b"https";
        if https && !controlled(&host) {
            return Some(Reach::Foreign(candidate));
        }
        if !https && insecure.is_none() && !cors_core::host_checks::is_loopback(&host) {
            insecure = Some(Reach::Insecure(candidate));
        }
    }
    insecure
}
