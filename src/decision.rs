//! The whole per-request decision: which policy applies, preflight or actual,
//! allowed or not, and the exact headers the plugin writes (`response` plans).
//!
//! The Wasm filter, the `cors-check` tool, the fuzzers and the property tests
//! all call `decide`, so they cannot differ. It reads each request header
//! through `RequestHeaders` only when a step needs it: in Envoy every read is
//! a call across the VM boundary.

use crate::config::Config;
use crate::policy::{Outcome, Unmatched};
use crate::response::{self, ActualPlan, HeaderPlan};

/// The request headers a decision may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    Method,
    Authority,
    Path,
    Origin,
    RequestMethod,
    RequestHeaders,
    PrivateNetwork,
}

impl Header {
    /// The name Envoy knows it by.
    pub const fn name(self) -> &'static str {
        match self {
            Header::Method => ":method",
            Header::Authority => ":authority",
            Header::Path => ":path",
            Header::Origin => "origin",
            Header::RequestMethod => "access-control-request-method",
            Header::RequestHeaders => "access-control-request-headers",
            Header::PrivateNetwork => "access-control-request-private-network",
        }
    }
}

/// Where a decision gets request header values: raw bytes, repeated lines
/// already joined with `,` (as Envoy hands them over).
pub trait RequestHeaders<'a> {
    fn get(&self, header: Header) -> Option<&'a [u8]>;
}

/// Every header value a decision may read, given up front.
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

impl<'a> RequestHeaders<'a> for RequestHead<'a> {
    fn get(&self, header: Header) -> Option<&'a [u8]> {
        match header {
            Header::Method => Some(self.method),
            Header::Authority => Some(self.authority),
            Header::Path => Some(self.path),
            Header::Origin => self.origin,
            Header::RequestMethod => self.request_method,
            Header::RequestHeaders => self.request_headers,
            Header::PrivateNetwork => self.private_network,
        }
    }
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
        /// The rule whose policy applied (`None`: the top level), and the
        /// request's origin if that policy allows it: what rebuilds `plan`
        /// when the response arrives.
        rule: Option<usize>,
        allowed_origin: Option<&'a [u8]>,
    },
}

pub fn decide<'a>(config: &'a Config, request: &impl RequestHeaders<'a>) -> Decision<'a> {
    let selection = if config.has_rules() {
        let authority = request.get(Header::Authority).unwrap_or_default();
        let path = request.get(Header::Path).unwrap_or_default();
        config.select(authority, path)
    } else {
        config.select(b"", b"")
    };
    let Some(policy) = selection.policy else {
        return Decision::Untouched;
    };
    let origin = request.get(Header::Origin);
    // A preflight: OPTIONS with Origin and Access-Control-Request-Method.
    let preflight = origin.and_then(|origin| {
        let method = (request.get(Header::Method) == Some(b"OPTIONS"))
            .then(|| request.get(Header::RequestMethod))
            .flatten()?;
        Some((origin, method))
    });
    if let Some((origin, method)) = preflight {
        return match policy.check_preflight(origin, method, request.get(Header::RequestHeaders)) {
            Ok(()) => {
                let private_network =
                    policy.private_network && request.get(Header::PrivateNetwork) == Some(b"true");
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
    let (outcome, allowed_origin) = match origin {
        None => (Outcome::NoOrigin, None),
        Some(origin) if policy.allows_origin(origin) => (Outcome::ActualAllowed, Some(origin)),
        Some(_) => (Outcome::ActualDisallowed, None),
    };
    Decision::Actual {
        plan: response::actual(policy, allowed_origin),
        outcome,
        rule: selection.rule,
        allowed_origin,
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
                ..
            } => assert_eq!(plan.managed[0], Some(&b"https://app.example.com"[..])),
            other => panic!("{other:?}"),
        }
        match decide(&config, &head("GET", evil, None)) {
            Decision::Actual {
                plan,
                outcome: Outcome::ActualDisallowed,
                ..
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

    /// Serves `RequestHead` values and records which headers were read.
    struct Recording<'a> {
        head: RequestHead<'a>,
        read: std::cell::RefCell<Vec<Header>>,
    }

    impl<'a> RequestHeaders<'a> for Recording<'a> {
        fn get(&self, header: Header) -> Option<&'a [u8]> {
            self.read.borrow_mut().push(header);
            self.head.get(header)
        }
    }

    #[test]
    fn reads_only_the_headers_a_step_needs_each_once() {
        use Header::*;
        let plain = Config::parse(
            br#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"]}"#,
        )
        .unwrap();
        let pna = Config::parse(
            br#"{"allow_origins": ["https://app.example.com"], "allow_private_network": true}"#,
        )
        .unwrap();
        let ruled = Config::parse(br#"{"allow_origins": ["https://app.example.com"], "rules": [{"path_prefix": "/x/", "enabled": false}]}"#).unwrap();
        let app = Some("https://app.example.com");
        let cases: [(&Config, RequestHead<'_>, &[Header]); 7] = [
            (&plain, head("GET", None, None), &[Origin]),
            (&plain, head("GET", app, None), &[Origin, Method]),
            (
                &plain,
                head("OPTIONS", app, None),
                &[Origin, Method, RequestMethod],
            ),
            (
                &plain,
                head("OPTIONS", app, Some("PUT")),
                &[Origin, Method, RequestMethod, RequestHeaders],
            ),
            (
                &pna,
                head("OPTIONS", app, Some("GET")),
                &[
                    Origin,
                    Method,
                    RequestMethod,
                    RequestHeaders,
                    PrivateNetwork,
                ],
            ),
            (&ruled, head("GET", None, None), &[Authority, Path, Origin]),
            (
                &ruled,
                RequestHead {
                    path: b"/x/1",
                    ..head("OPTIONS", app, Some("PUT"))
                },
                &[Authority, Path],
            ),
        ];
        for (config, head, want) in cases {
            let recording = Recording {
                head,
                read: Default::default(),
            };
            decide(config, &recording);
            assert_eq!(recording.read.borrow().as_slice(), want, "{head:?}");
        }
    }
}
