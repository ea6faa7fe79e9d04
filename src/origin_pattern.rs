//! The origins a policy allows, compiled at configure time into a form that
//! answers "is this request's origin allowed?" without allocating.

use crate::host_checks;
use crate::origin;
use crate::sorted_names::SortedNames;
use crate::wildcard_index::WildcardIndex;
use regex_lite::Regex;

/// Used to catch matchers that match everything: no real deployment allows it.
pub const PROBE_ORIGIN: &str = "https://cors-probe.invalid";

/// One entry of `allow_origins`, validated.
#[derive(Debug, Clone)]
pub enum OriginPattern {
    /// `"*"`: every origin.
    Any,
    /// `"null"`: sandboxed iframes, `file:` pages, cross-origin redirects.
    Null,
    /// `https://app.example.com`: exactly this origin.
    Exact(String),
    /// `https://*.example.com`, `http://localhost:*` and their combination.
    Wildcard(Wildcard),
    /// `{"exact"|"prefix"|"suffix"|"contains"|"regex": …}`, Envoy-style.
    Matcher(Matcher),
}

#[derive(Debug, Clone)]
pub struct Wildcard {
    scheme: String,
    /// Either the exact host, or `.example.com` for subdomains of it.
    host: String,
    subdomains: bool,
    /// `None` means any port (`:*`), including the scheme's default.
    port: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub enum Matcher {
    Exact { value: String, ignore_case: bool },
    Prefix { value: String, ignore_case: bool },
    Suffix { value: String, ignore_case: bool },
    Contains { value: String, ignore_case: bool },
    Regex(Regex),
}

/// Parses a string entry of `allow_origins`. The error completes "the origin ...".
pub fn parse_pattern(text: &str) -> Result<OriginPattern, String> {
    match text {
        "*" => return Ok(OriginPattern::Any),
        "null" => return Ok(OriginPattern::Null),
        _ => {}
    }
    if !text.contains('*') {
        let parsed = origin::parse(text.as_bytes()).map_err(|e| e.message().to_string())?;
        let (scheme, host) = (
            String::from_utf8_lossy(parsed.scheme),
            String::from_utf8_lossy(parsed.host),
        );
        if let Some(why) = host_checks::unsendable(&scheme, &host) {
            return Err(why);
        }
        return Ok(OriginPattern::Exact(text.to_string()));
    }
    let wildcard = parse_wildcard(text)?;
    if let Some(why) = host_checks::unsendable(&wildcard.scheme, wildcard.base_host()) {
        return Err(why);
    }
    Ok(OriginPattern::Wildcard(wildcard))
}

fn parse_wildcard(text: &str) -> Result<Wildcard, String> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| origin::OriginError::NoScheme.message().to_string())?;
    let (host_part, any_port) = match rest.strip_suffix(":*") {
        Some(host) => (host, true),
        None => (rest, false),
    };
    let (host, subdomains) = match host_part.strip_prefix("*.") {
        Some(base) => (base, true),
        None => (host_part, false),
    };
    if host_part == "*" {
        return Err(format!(
            "matches every host; use \"*\" to allow all origins, or name a domain: {scheme}://*.example.com"
        ));
    }
    if host.contains('*') {
        return Err("may use * only as the whole first label of the host (https://*.example.com) or as the whole port (http://localhost:*)".to_string());
    }
    // Validate what remains as an ordinary origin, so every other mistake
    // gets the same message an exact origin would.
    let concrete = format!("{scheme}://{host}");
    let parsed = origin::parse(concrete.as_bytes()).map_err(|e| e.message().to_string())?;
    let host = String::from_utf8_lossy(parsed.host).into_owned();
    if subdomains {
        if host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err("puts a subdomain wildcard on an IP address".to_string());
        }
        if !host.trim_end_matches('.').contains('.') {
            return Err(format!(
                "matches every site under the top-level domain {host:?}; name a registrable domain such as {scheme}://*.example.{host}"
            ));
        }
    }
    let port = if any_port {
        None
    } else {
        Some(parsed.port.map(|p| String::from_utf8_lossy(p).into_owned()))
    };
    Ok(Wildcard {
        scheme: scheme.to_string(),
        host: if subdomains {
            format!(".{host}")
        } else {
            host.to_string()
        },
        subdomains,
        port,
    })
}

impl Wildcard {
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, or for a subdomain wildcard the domain under it.
    pub fn base_host(&self) -> &str {
        self.host.strip_prefix('.').unwrap_or(&self.host)
    }

    /// For `https://*.example.com`, `example.com`.
    pub fn subdomain_base(&self) -> Option<&str> {
        self.subdomains.then(|| self.base_host())
    }

    /// `None` for any port (`:*`); `Some(None)` for the scheme's default.
    pub fn port(&self) -> Option<Option<&str>> {
        self.port.as_ref().map(|p| p.as_deref())
    }

    /// Whether this one wildcard allows `origin`: what `WildcardIndex`
    /// finds without a scan, kept as its tests' reference.
    #[cfg(test)]
    pub(crate) fn matches(&self, origin: &origin::Origin<'_>) -> bool {
        let host_ok = if self.subdomains {
            // The host must be longer than ".example.com", so example.com itself
            // and evilexample.com never match; labels were validated by the parser.
            origin.host.len() > self.host.len() && origin.host.ends_with(self.host.as_bytes())
        } else {
            origin.host == self.host.as_bytes()
        };
        let port_ok = match &self.port {
            None => true,
            Some(port) => origin.port == port.as_deref().map(str::as_bytes),
        };
        host_ok && port_ok && origin.scheme == self.scheme.as_bytes()
    }
}

impl Matcher {
    /// Builds an Envoy-style string matcher; the error completes "the matcher ...".
    pub fn new(kind: &str, value: &str, ignore_case: bool) -> Result<Matcher, String> {
        if value.is_empty() {
            return Err("is empty".to_string());
        }
        let value_cased = if ignore_case {
            value.to_ascii_lowercase()
        } else {
            value.to_string()
        };
        Ok(match kind {
            "exact" => Matcher::Exact {
                value: value_cased,
                ignore_case,
            },
            "prefix" => Matcher::Prefix {
                value: value_cased,
                ignore_case,
            },
            "suffix" => Matcher::Suffix {
                value: value_cased,
                ignore_case,
            },
            "contains" => Matcher::Contains {
                value: value_cased,
                ignore_case,
            },
            "regex" => {
                // Anchored: Envoy's safe_regex is a full match, and an unanchored
                // pattern is the classic way to allow example.com.evil.com.
                let regex = regex_lite::RegexBuilder::new(&format!("^(?:{value})$"))
                    .case_insensitive(ignore_case)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        format!(
                            "is not a valid regular expression: {}",
                            one_line(&e.to_string())
                        )
                    })?;
                Matcher::Regex(regex)
            }
            _ => return Err(format!("has an unknown kind {kind:?}")),
        })
    }

    pub fn matches(&self, origin: &str) -> bool {
        match self {
            Matcher::Exact { value, ignore_case } => cased_eq(origin, value, *ignore_case),
            Matcher::Prefix { value, ignore_case } => origin
                .get(..value.len())
                .is_some_and(|head| cased_eq(head, value, *ignore_case)),
            Matcher::Suffix { value, ignore_case } => origin
                .len()
                .checked_sub(value.len())
                .and_then(|start| origin.get(start..))
                .is_some_and(|tail| cased_eq(tail, value, *ignore_case)),
            Matcher::Contains { value, ignore_case } => {
                if *ignore_case {
                    origin
                        .as_bytes()
                        .windows(value.len())
                        .any(|w| w.eq_ignore_ascii_case(value.as_bytes()))
                } else {
                    origin.contains(value.as_str())
                }
            }
            Matcher::Regex(regex) => regex.is_match(origin),
        }
    }
}

fn cased_eq(a: &str, b: &str, ignore_case: bool) -> bool {
    if ignore_case {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// All the patterns of one policy, arranged for matching.
#[derive(Debug, Clone, Default)]
pub struct OriginSet {
    any: bool,
    null: bool,
    exact: SortedNames,
    wildcards: WildcardIndex,
    matchers: Vec<Matcher>,
}

impl OriginSet {
    pub fn new(patterns: Vec<OriginPattern>) -> OriginSet {
        let mut set = OriginSet::default();
        let mut exact = Vec::new();
        let mut wildcards = Vec::new();
        for pattern in patterns {
            match pattern {
                OriginPattern::Any => set.any = true,
                OriginPattern::Null => set.null = true,
                OriginPattern::Exact(origin) => exact.push(origin),
                OriginPattern::Wildcard(w) => wildcards.push(w),
                // Only a valid origin can equal a request's (parsed) origin,
                // and that is lowercase, so such a matcher is an exact origin
                // and is looked up with them; any other never matches.
                OriginPattern::Matcher(Matcher::Exact { value, .. }) => {
                    if origin::parse(value.as_bytes()).is_ok() {
                        exact.push(value);
                    }
                }
                OriginPattern::Matcher(m) => set.matchers.push(m),
            }
        }
        set.exact = SortedNames::new(exact);
        set.wildcards = WildcardIndex::new(&wildcards);
        set
    }

    /// `"*"`: every origin is allowed and the answer never depends on it.
    pub fn allows_any(&self) -> bool {
        self.any
    }

    /// Whether a request's `Origin` value is allowed. Malformed values never are.
    pub fn allows(&self, value: &[u8]) -> bool {
        if value == b"null" {
            return self.null || self.any;
        }
        // An exact entry was validated as an origin when configured, so a value
        // equal to one is valid too: the common case skips parsing altogether.
        if self.exact.contains(value) {
            return true;
        }
        let Ok(parsed) = origin::parse(value) else {
            return false;
        };
        if self.any {
            return true;
        }
        if self.wildcards.allows(&parsed) {
            return true;
        }
        // A parsed origin is ASCII, so this never fails.
        match std::str::from_utf8(value) {
            Ok(text) => self.matchers.iter().any(|m| m.matches(text)),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: &[&str]) -> OriginSet {
        OriginSet::new(
            patterns
                .iter()
                .map(|p| parse_pattern(p).unwrap_or_else(|e| panic!("{p}: {e}")))
                .collect(),
        )
    }

    #[test]
    fn pattern_matching_table() {
        // (patterns, origin, allowed)
        let cases: &[(&[&str], &str, bool)] = &[
            (
                &["https://app.example.com"],
                "https://app.example.com",
                true,
            ),
            (
                &["https://app.example.com"],
                "http://app.example.com",
                false,
            ),
            (
                &["https://app.example.com"],
                "https://app.example.com:8443",
                false,
            ),
            (
                &["https://app.example.com"],
                "https://app.example.com.",
                false,
            ),
            (
                &["https://app.example.com"],
                "https://APP.example.com",
                false,
            ),
            (
                &["https://foo.com", "https://bar.com"],
                "https://barfoo.com",
                false,
            ),
            (
                &["https://foo.com", "https://bar.com"],
                "https://bar.com",
                true,
            ),
            (&["https://*.example.com"], "https://api.example.com", true),
            (&["https://*.example.com"], "https://a.b.example.com", true),
            (&["https://*.example.com"], "https://example.com", false),
            (&["https://*.example.com"], "https://evilexample.com", false),
            (
                &["https://*.example.com"],
                "https://example.com.evil.com",
                false,
            ),
            (
                &["https://*.example.com"],
                "https://api.example.com.evil.com",
                false,
            ),
            (&["https://*.example.com"], "http://api.example.com", false),
            (
                &["https://*.example.com"],
                "https://api.example.com:8443",
                false,
            ),
            (&["https://*.example.com"], "https://.example.com", false),
            (&["https://*.example.com"], "https://a..example.com", false),
            (
                &["https://*.example.com"],
                "https://evil.com/.example.com",
                false,
            ),
            (
                &["https://*.example.com:*"],
                "https://api.example.com:8443",
                true,
            ),
            (
                &["https://*.example.com:8443"],
                "https://api.example.com:8443",
                true,
            ),
            (
                &["https://*.example.com:8443"],
                "https://api.example.com",
                false,
            ),
            (&["http://localhost:*"], "http://localhost:3000", true),
            (&["http://localhost:*"], "http://localhost", true),
            (&["http://localhost:*"], "https://localhost:3000", false),
            (
                &["http://localhost:*"],
                "http://localhost.evil.com:3000",
                false,
            ),
            (&["http://[::1]:*"], "http://[::1]:5173", true),
            (&["*"], "https://anything.example", true),
            (&["*"], "null", true),
            (&["*"], "not an origin", false),
            (&["null"], "null", true),
            (&["https://app.example.com"], "null", false),
            (&["https://*.example.com"], "null", false),
            (&["https://app.example.com"], "", false),
        ];
        for (patterns, origin, want) in cases {
            assert_eq!(
                set(patterns).allows(origin.as_bytes()),
                *want,
                "{patterns:?} vs {origin}"
            );
        }
    }

    #[test]
    fn matchers_table() {
        // (kind, value, ignore_case, origin, matches)
        let cases = [
            ("exact", "https://a.com", false, "https://a.com", true),
            ("exact", "https://A.com", true, "https://a.com", true),
            ("exact", "https://A.com", false, "https://a.com", false),
            (
                "prefix",
                "https://pr-",
                false,
                "https://pr-1.example.com",
                true,
            ),
            (
                "prefix",
                "https://pr-",
                false,
                "http://pr-1.example.com",
                false,
            ),
            (
                "suffix",
                ".example.com",
                false,
                "https://a.example.com",
                true,
            ),
            (
                "suffix",
                ".EXAMPLE.com",
                true,
                "https://a.example.com",
                true,
            ),
            (
                "suffix",
                ".example.com",
                false,
                "https://example.com.evil.io",
                false,
            ),
            ("contains", "example", false, "https://my-example.io", true),
            ("contains", "EXAMPLE", true, "https://my-example.io", true),
            (
                "regex",
                r"https://pr-[0-9]+\.preview\.example\.com",
                false,
                "https://pr-42.preview.example.com",
                true,
            ),
            (
                "regex",
                r"https://pr-[0-9]+\.preview\.example\.com",
                false,
                "https://pr-42.preview.example.com.evil.io",
                false,
            ),
            (
                "regex",
                r"https://pr-[0-9]+\.preview\.example\.com",
                false,
                "https://evil.io/https://pr-1.preview.example.com",
                false,
            ),
            ("regex", r"https://A\.com", true, "https://a.com", true),
        ];
        for (kind, value, ignore_case, origin, want) in cases {
            let m = Matcher::new(kind, value, ignore_case).unwrap();
            assert_eq!(m.matches(origin), want, "{kind} {value} vs {origin}");
        }
        assert!(Matcher::new("regex", "(", false).is_err());
        assert!(Matcher::new("prefix", "", false).is_err());
        assert!(Matcher::new("glob", "x", false).is_err());
    }

    #[test]
    fn exact_matchers_are_looked_up_as_exact_origins() {
        // (value, ignore_case, origin, allowed)
        let cases = [
            ("https://a.com", false, "https://a.com", true),
            ("https://A.com", false, "https://a.com", false),
            ("https://A.com", true, "https://a.com", true),
            ("https://a.com", true, "https://A.com", false),
            ("https://a.com/", false, "https://a.com/", false),
            ("https://a.com/", false, "https://a.com", false),
            ("null", false, "null", false),
            ("https://a.com", false, "https://a.com:8443", false),
        ];
        for (value, ignore_case, origin, want) in cases {
            let matcher = Matcher::new("exact", value, ignore_case).unwrap();
            let set = OriginSet::new(vec![OriginPattern::Matcher(matcher)]);
            assert_eq!(set.allows(origin.as_bytes()), want, "{value} vs {origin}");
        }
    }

    #[test]
    fn matcher_entries_never_match_malformed_origins() {
        let mut s = OriginSet::new(vec![OriginPattern::Matcher(
            Matcher::new("prefix", "https://", false).unwrap(),
        )]);
        assert!(s.allows(b"https://ok.example"));
        assert!(!s.allows(b"https://ok.example/path"));
        s = OriginSet::new(vec![OriginPattern::Matcher(
            Matcher::new("regex", ".*", false).unwrap(),
        )]);
        assert!(!s.allows(b"null"));
        assert!(!s.allows(b"\xff\xfe"));
    }

    #[test]
    fn invalid_patterns() {
        let cases = [
            ("https://*", "matches every host"),
            ("*.example.com", "has no scheme"),
            ("https://*.com", "top-level domain"),
            ("https://a*.example.com", "may use * only"),
            ("https://*.*.example.com", "may use * only"),
            ("https://*.example.com/", "ends with a slash"),
            ("https://*.Example.com", "uppercase host"),
            ("https://*.127.0.0.1", "IP address"),
            ("https://example.com:443", "default port"),
            ("https://example.com/app", "has a path"),
            ("example.com", "has no scheme"),
            ("HTTPS://example.com", "uppercase scheme"),
            ("https://Example.com", "uppercase host"),
        ];
        for (pattern, want) in cases {
            match parse_pattern(pattern) {
                Ok(p) => panic!("{pattern} accepted as {p:?}"),
                Err(e) => assert!(e.contains(want), "{pattern}: {e}"),
            }
        }
    }
}
