//! The whole per-request decision as one pure function of the request's
//! header values: which policy applies, preflight or actual, allowed or not,
//! and the exact headers the plugin writes (`response` plans).
//!
//! `filter.rs` walks the same steps in the same order, reading each header
//! from Envoy only when a step needs it; this form takes the values up front,
//! so fuzzers and property tests can drive the real core with any bytes.

use crate::config::Config;
use crate::policy::{Outcome, Unmatched};
use crate::response::{self, ActualPlan, HeaderPlan};

/// The request header values a decision may read, as Envoy hands them over:
/// raw bytes, repeated lines already joined with `,`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// `:method`
    pub method: &'a [u8],
    /// `:authority`
    pub authority: &'a [u8],
    /// `:path`
    pub path: &'a [u8],
    pub origin: Option<&'a [u8]>,
    /// `access-control-request-method`
    pub request_method: Option<&'a [u8]>,
    /// `access-control-request-headers`
    pub request_headers: Option<&'a [u8]>,
    /// `access-control-request-private-network`
    pub private_network: Option<&'a [u8]>,
}

/// What the plugin does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// A rule switches CORS off here: request and response pass untouched.
    Untouched,
    /// A preflight answered locally (`204` or `403`) with these headers.
    Reply {
        status: u32,
        headers: HeaderPlan<'a>,
        outcome: Outcome,
    },
    /// A rejected preflight passed to the upstream untouched (`"forward"`).
    Forward { outcome: Outcome },
    /// An actual request: the upstream's response gets this plan.
    Actual {
        plan: ActualPlan<'a>,
        outcome: Outcome,
    },
}

pub fn decide<'a>(config: &'a Config, request: &RequestHead<'a>) -> Decision<'a> {
    let selection = if config.has_rules() {
        config.select(request.authority, request.path)
    } else {
        config.select(b"", b"")
    };
    let Some(policy) = selection.policy else {
        return Decision::Untouched;
    };
    if let (Some(origin), Some(method), b"OPTIONS") =
        (request.origin, request.request_method, request.method)
    {
        return match policy.check_preflight(origin, method, request.request_headers) {
            Ok(()) => {
                let private_network =
                    policy.private_network && request.private_network == Some(b"true");
                Decision::Reply {
                    status: 204,
                    headers: response::preflight_allowed(policy, origin, private_network),
                    outcome: Outcome::PreflightAllowed,
                }
            }
            Err(reason) => {
                let outcome = Outcome::PreflightRejected(reason);
                match policy.unmatched {
                    Unmatched::Reject => Decision::Reply {
                        status: 403,
                        headers: response::preflight_rejected(policy),
                        outcome,
                    },
                    Unmatched::Forward => Decision::Forward { outcome },
                }
            }
        };
    }
    let (outcome, allowed_origin) = match request.origin {
        None => (Outcome::NoOrigin, None),
        Some(origin) if policy.allows_origin(origin) => (Outcome::ActualAllowed, Some(origin)),
        Some(_) => (Outcome::ActualDisallowed, None),
    };
    Decision::Actual {
        plan: response::actual(policy, allowed_origin),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Reason;
    use crate::response::ALLOW_ORIGIN;

    const CONFIG: &str = r#"{
      "allow_origins": ["https://app.example.com"],
      "allow_methods": ["PUT"],
      "allow_credentials": true,
      "rules": [
        {"hosts": ["off.example.com"], "enabled": false},
        {"path_prefix": "/fwd/", "unmatched_preflights": "forward"}
      ]
    }"#;

    fn head<'a>(
        method: &'a str,
        origin: Option<&'a str>,
        acrm: Option<&'a str>,
    ) -> RequestHead<'a> {
        RequestHead {
            method: method.as_bytes(),
            authority: b"api.example.com",
            path: b"/",
            origin: origin.map(str::as_bytes),
            request_method: acrm.map(str::as_bytes),
            ..RequestHead::default()
        }
    }

    fn acao<'a>(headers: &HeaderPlan<'a>) -> Option<&'a [u8]> {
        headers
            .iter()
            .flatten()
            .find(|(name, _)| *name == ALLOW_ORIGIN)
            .map(|(_, v)| *v)
    }

    #[test]
    fn each_kind_of_decision() {
        let config = Config::parse(CONFIG.as_bytes()).unwrap();
        let app = Some("https://app.example.com");
        let evil = Some("https://evil.example");

        match decide(&config, &head("OPTIONS", app, Some("PUT"))) {
            Decision::Reply {
                status: 204,
                headers,
                outcome: Outcome::PreflightAllowed,
            } => assert_eq!(acao(&headers), Some(&b"https://app.example.com"[..])),
            other => panic!("{other:?}"),
        }
        match decide(&config, &head("OPTIONS", evil, Some("PUT"))) {
            Decision::Reply {
                status: 403,
                headers,
                outcome: Outcome::PreflightRejected(Reason::Origin),
            } => assert_eq!(acao(&headers), None),
            other => panic!("{other:?}"),
        }
        // Lowercase `options` is another method (methods are case-sensitive).
        match decide(&config, &head("options", app, Some("PUT"))) {
            Decision::Actual {
                plan,
                outcome: Outcome::ActualAllowed,
            } => assert_eq!(plan.managed[0], Some(&b"https://app.example.com"[..])),
            other => panic!("{other:?}"),
        }
        match decide(&config, &head("GET", evil, None)) {
            Decision::Actual {
                plan,
                outcome: Outcome::ActualDisallowed,
            } => assert_eq!(plan.managed, [None; 7]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decide(&config, &head("GET", None, None)),
            Decision::Actual {
                outcome: Outcome::NoOrigin,
                ..
            }
        ));
        let off = RequestHead {
            authority: b"off.example.com:8080",
            ..head("OPTIONS", evil, Some("PUT"))
        };
        assert_eq!(decide(&config, &off), Decision::Untouched);
        let forward = RequestHead {
            path: b"/fwd/x",
            ..head("OPTIONS", app, Some("PATCH"))
        };
        assert_eq!(
            decide(&config, &forward),
            Decision::Forward {
                outcome: Outcome::PreflightRejected(Reason::Method)
            }
        );
    }
}
