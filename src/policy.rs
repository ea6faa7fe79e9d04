//! One CORS policy, validated and precomputed: every response header value it
//! can send is built here once, at configure time.

use crate::header_list::HeaderSet;
use crate::origin_pattern::OriginSet;
use crate::token::{is_forbidden_method, is_safelisted_method, is_token};
use std::fmt;

/// What to do with a preflight the policy does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    /// Answer 403 without CORS headers: the browser blocks the request.
    Reject,
    /// Pass it to the upstream untouched, which may answer it itself.
    Forward,
}

/// Whether a policy acts, or only reports what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answer preflights and set the response headers (the default).
    Enforce,
    /// Decide and count every request as `Enforce` would, change nothing,
    /// and compare the decision with the answer of the CORS layer in place.
    Report,
}

/// Why a preflight was not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Origin,
    Method,
    Headers,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Origin => "origin not allowed",
            Reason::Method => "method not allowed",
            Reason::Headers => "request header not allowed",
        })
    }
}

/// What happened to one request, as counted in Envoy's stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    PreflightAllowed,
    PreflightRejected(Reason),
    /// An actual request from an allowed origin.
    ActualAllowed,
    /// An actual request whose `Origin` is not allowed (or not a valid origin).
    ActualDisallowed,
    /// An actual request without `Origin`: same-origin, or not from a browser.
    NoOrigin,
}

/// Every outcome in counter order, with its counters' names: enforcing, and
/// in report mode. The one list; `index` is checked against it.
#[rustfmt::skip]
const OUTCOMES: [(Outcome, &str, &str); 7] = [
    (Outcome::PreflightAllowed, "cors.preflight_allowed", "cors.report.preflight_allowed"),
    (Outcome::PreflightRejected(Reason::Origin), "cors.preflight_rejected_origin", "cors.report.preflight_rejected_origin"),
    (Outcome::PreflightRejected(Reason::Method), "cors.preflight_rejected_method", "cors.report.preflight_rejected_method"),
    (Outcome::PreflightRejected(Reason::Headers), "cors.preflight_rejected_headers", "cors.report.preflight_rejected_headers"),
    (Outcome::ActualAllowed, "cors.actual_allowed", "cors.report.actual_allowed"),
    (Outcome::ActualDisallowed, "cors.actual_disallowed", "cors.report.actual_disallowed"),
    (Outcome::NoOrigin, "cors.no_origin", "cors.report.no_origin"),
];

impl Outcome {
    pub const ALL: [Outcome; OUTCOMES.len()] = {
        let mut all = [Outcome::NoOrigin; OUTCOMES.len()];
        let mut i = 0;
        while i < all.len() {
            all[i] = OUTCOMES[i].0;
            i += 1;
        }
        all
    };

    /// Position in `ALL` (a match, not a search: it runs per request).
    pub fn index(self) -> usize {
        match self {
            Outcome::PreflightAllowed => 0,
            Outcome::PreflightRejected(Reason::Origin) => 1,
            Outcome::PreflightRejected(Reason::Method) => 2,
            Outcome::PreflightRejected(Reason::Headers) => 3,
            Outcome::ActualAllowed => 4,
            Outcome::ActualDisallowed => 5,
            Outcome::NoOrigin => 6,
        }
    }

    /// The counter's name in Envoy's `/stats` (and `/stats/prometheus`, with `_`).
    pub fn metric(self) -> &'static str {
        OUTCOMES.get(self.index()).map_or("", |row| row.1)
    }

    /// The counter a policy in report mode increments instead of `metric`.
    pub fn report_metric(self) -> &'static str {
        OUTCOMES.get(self.index()).map_or("", |row| row.2)
    }
}

/// The parts of a policy, validated; `Policy::new` precomputes the rest.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    pub origins: OriginSet,
    /// Normalized (Fetch uppercases the six standard methods), deduplicated.
    pub methods: Vec<String>,
    /// Lowercase, deduplicated.
    pub headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u32>,
    pub credentials: bool,
    pub private_network: bool,
    pub unmatched: Unmatched,
    pub mode: Mode,
}

#[derive(Debug, Clone)]
pub struct Policy {
    origins: OriginSet,
    any_method: bool,
    methods: Vec<String>,
    headers: HeaderSet,
    pub credentials: bool,
    pub private_network: bool,
    pub unmatched: Unmatched,
    pub mode: Mode,
    /// `access-control-allow-methods`
    pub allow_methods: String,
    /// `access-control-allow-headers`, when any header is allowed.
    pub allow_headers: Option<String>,
    /// `access-control-expose-headers`
    pub expose_headers: Option<String>,
    /// `access-control-max-age`
    pub max_age: Option<String>,
    /// `vary` on preflight answers: they depend on all of these request headers.
    pub preflight_vary: &'static str,
}

impl Policy {
    pub fn new(spec: PolicySpec) -> Policy {
        let join = |items: &[String]| (!items.is_empty()).then(|| items.join(", "));
        // With no methods configured only the safelisted ones are allowed: say so.
        let allow_methods = join(&spec.methods).unwrap_or_else(|| "GET, HEAD, POST".to_string());
        let preflight_vary = if spec.private_network {
            "origin, access-control-request-method, access-control-request-headers, access-control-request-private-network"
        } else {
            "origin, access-control-request-method, access-control-request-headers"
        };
        Policy {
            any_method: spec.methods.iter().any(|m| m == "*"),
            headers: HeaderSet::new(&spec.headers),
            allow_headers: join(&spec.headers),
            expose_headers: join(&spec.expose_headers),
            max_age: spec.max_age.map(|s| s.to_string()),
            allow_methods,
            preflight_vary,
            origins: spec.origins,
            methods: spec.methods,
            credentials: spec.credentials,
            private_network: spec.private_network,
            unmatched: spec.unmatched,
            mode: spec.mode,
        }
    }

    /// `"*"` without credentials: the answer is the same for every origin,
    /// so responses carry `access-control-allow-origin: *` and need no `vary`.
    pub fn allows_any_origin(&self) -> bool {
        self.origins.allows_any()
    }

    pub fn allows_origin(&self, origin: &[u8]) -> bool {
        self.origins.allows(origin)
    }

    pub fn allows_method(&self, method: &[u8]) -> bool {
        if !is_token(method) {
            return false;
        }
        // Methods are case-sensitive; browsers have already uppercased the standard ones.
        is_safelisted_method(method)
            || self.methods.iter().any(|m| m.as_bytes() == method)
            || (self.any_method
                && std::str::from_utf8(method).is_ok_and(|m| !is_forbidden_method(m)))
    }

    /// Checks a preflight's origin, `Access-Control-Request-Method` and
    /// `Access-Control-Request-Headers`, in that order.
    pub fn check_preflight(
        &self,
        origin: &[u8],
        method: &[u8],
        headers: Option<&[u8]>,
    ) -> Result<(), Reason> {
        if !self.allows_origin(origin) {
            return Err(Reason::Origin);
        }
        if !self.allows_method(method) {
            return Err(Reason::Method);
        }
        match headers {
            Some(list) if self.headers.check(list).is_err() => Err(Reason::Headers),
            _ => Ok(()),
        }
    }

    /// `*` in `allow_methods` with credentials: the allowed preflight
    /// answers with the requested method itself.
    pub fn echoes_methods(&self) -> bool {
        self.credentials && self.any_method
    }

    /// `*` in `allow_headers` with credentials: the allowed preflight answers
    /// with the requested header list itself (checked: `authorization` only
    /// when listed by name).
    pub fn echoes_headers(&self) -> bool {
        self.credentials && self.headers.allows_any()
    }

    /// Whether the policy only reports (`"mode": "report"`).
    pub fn reports(&self) -> bool {
        self.mode == Mode::Report
    }

    /// The first requested header name the policy rejects, bounded, for logs.
    pub fn rejected_header<'a>(&self, list: &'a [u8]) -> Option<&'a [u8]> {
        self.headers.check(list).err()
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
