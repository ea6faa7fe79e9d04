//! `rules`: per host and path, another policy or none. Matched on the
//! request's `:authority` (port ignored) and `:path`, first match wins.

use crate::origin;
use crate::policy::Policy;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `*`: every host.
    Any,
    /// `api.example.com`
    Exact(String),
    /// `*.example.com` stored as `.example.com`: subdomains, not the domain itself.
    Subdomains(String),
}

impl HostPattern {
    /// Parses an entry of `hosts`; the error completes "the host ...".
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        if text == "*" {
            return Ok(HostPattern::Any);
        }
        if text.contains("://") {
            return Err(
                "has a scheme; rules match the host only, e.g. api.example.com".to_string(),
            );
        }
        if text.contains('/') {
            return Err("has a path; put it in path_prefix".to_string());
        }
        let (base, subdomains) = match text.strip_prefix("*.") {
            Some(base) => (base, true),
            None => (text, false),
        };
        if base.contains('*') {
            return Err(
                "may use * only as the whole first label (*.example.com) or alone".to_string(),
            );
        }
        let port_at = if base.starts_with('[') {
            base.find("]:")
        } else {
            base.find(':')
        };
        if port_at.is_some() {
            return Err("has a port; rules ignore the port, so remove it".to_string());
        }
        // Requests are matched without a trailing dot, so patterns are too.
        let lower = base.strip_suffix('.').unwrap_or(base).to_ascii_lowercase();
        origin::check_host(lower.as_bytes()).map_err(|e| e.message().to_string())?;
        Ok(if subdomains {
            HostPattern::Subdomains(format!(".{lower}"))
        } else {
            HostPattern::Exact(lower)
        })
    }

    /// `host`: the request's authority without its port. Requests are
    /// matched by `RuleIndex`; this is its tests' reference.
    #[cfg(test)]
    pub(crate) fn matches(&self, host: &[u8]) -> bool {
        match self {
            HostPattern::Any => true,
            HostPattern::Exact(name) => host.eq_ignore_ascii_case(name.as_bytes()),
            HostPattern::Subdomains(suffix) => {
                host.len() > suffix.len()
                    && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// Empty: every host.
    pub hosts: Vec<HostPattern>,
    pub path_prefix: Option<String>,
    /// `None`: CORS handling is off where this rule applies (`"enabled": false`).
    pub policy: Option<Policy>,
}

impl Rule {
    /// Whether this rule applies to a request: what `RuleIndex` finds
    /// without a scan, kept as its tests' reference.
    #[cfg(test)]
    pub fn matches(&self, authority: &[u8], path: &[u8]) -> bool {
        let host = host_of(authority);
        let host_ok = self.hosts.is_empty() || self.hosts.iter().any(|h| h.matches(host));
        let path_ok = self
            .path_prefix
            .as_ref()
            .is_none_or(|prefix| path.starts_with(prefix.as_bytes()));
        host_ok && path_ok
    }
}

/// `api.example.com:8443` → `api.example.com`, `[::1]:80` → `[::1]`, split
/// as origins are; a trailing dot names the same host, so it is dropped too.
/// A malformed authority is kept whole: it matches no host pattern.
pub(crate) fn host_of(authority: &[u8]) -> &[u8] {
    let host = origin::split_host_port(authority).map_or(authority, |(host, _)| host);
    host.strip_suffix(b".").unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        // (pattern, authority, matches)
        let cases = [
            ("api.example.com", "api.example.com", true),
            ("api.example.com", "API.Example.com:8443", true),
            ("api.example.com", "api.example.com.", true),
            ("api.example.com", "xapi.example.com", false),
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "a.b.example.com:80", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "evilexample.com", false),
            ("*", "anything:1", true),
            ("[::1]", "[::1]:10000", true),
            ("[::1]", "[::1]x", false),
            ("api.example.com", "api.example.com:", true),
            ("127.0.0.1", "127.0.0.1:10000", true),
            ("Admin.Example.com", "admin.example.com", true),
        ];
        for (pattern, authority, want) in cases {
            let p = HostPattern::parse(pattern).unwrap();
            assert_eq!(
                p.matches(host_of(authority.as_bytes())),
                want,
                "{pattern} vs {authority}"
            );
        }
    }

    #[test]
    fn bad_host_patterns() {
        let cases = [
            ("https://a.com", "has a scheme"),
            ("a.com/api", "has a path"),
            ("a.com:8080", "has a port"),
            ("*.*.a.com", "may use *"),
            ("a*.com", "may use *"),
            ("", "has no host"),
            ("a..com", "invalid host"),
            ("bad host", "invalid host"),
        ];
        for (pattern, want) in cases {
            let err = HostPattern::parse(pattern).unwrap_err();
            assert!(err.contains(want), "{pattern}: {err}");
        }
    }
}
