//! The whole per-request decision: which policy applies, preflight or actual,
//! allowed or not, and the exact headers the plugin writes (`response` plans).
//!
//! Both host glues (through `plugin::Plugin`), the `cors-check` tool, the fuzzers and the property tests
//! all call `decide`, so they cannot differ. It reads each request header
//! through `RequestHeaders` only when a step needs it: in Envoy every read is
//! a call across the VM boundary.

use crate::config::Config;
use crate::policy::{Outcome, Policy, Unmatched};
use crate::request::{Header, RequestHeaders};
use crate::response::{self, ActualPlan, HeaderPlan};

/// What the plugin does with one request: the facts, from which
/// `reply_headers` and `actual_plan` give the exact headers.
#[derive(Debug, Clone, Copy)]
pub enum Decision<'a> {
    /// A rule switches CORS off here: request and response pass untouched.
    Untouched {
        /// The rule that did, by its index in `rules`.
        rule: usize,
    },
    /// A preflight answered locally: `204` when allowed, `403` when rejected.
    Reply {
        status: u32,
        outcome: Outcome,
        /// The policy that applied and its rule (`None`: the top level).
        policy: &'a Policy,
        rule: Option<usize>,
        origin: &'a [u8],
        /// The preflight asked for private network access and the policy allows it.
        private_network: bool,
        /// `access-control-request-method` and `-headers`, which a policy
        /// allowing `*` with credentials echoes.
        method: &'a [u8],
        headers: Option<&'a [u8]>,
    },
    /// A rejected preflight passed to the upstream untouched (`"forward"`).
    Forward {
        outcome: Outcome,
        policy: &'a Policy,
        rule: Option<usize>,
    },
    /// An actual request: the upstream's response gets `actual_plan`.
    Actual {
        outcome: Outcome,
        policy: &'a Policy,
        rule: Option<usize>,
        /// The request's origin, if the policy allows it.
        allowed_origin: Option<&'a [u8]>,
    },
}

impl<'a> Decision<'a> {
    /// What was counted; `None` where CORS is off.
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            Decision::Untouched { .. } => None,
            Decision::Reply { outcome, .. }
            | Decision::Forward { outcome, .. }
            | Decision::Actual { outcome, .. } => Some(*outcome),
        }
    }

    /// Whether the decision refused something (a preflight, or an actual
    /// request's origin): those are the decisions with a debug line.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self.outcome(),
            Some(Outcome::PreflightRejected(_) | Outcome::ActualDisallowed)
        )
    }

    /// The rule whose policy decided (`None`: the top level), or that
    /// switched CORS off: the selection `decide` made, for callers that name it.
    pub fn rule(&self) -> Option<usize> {
        match *self {
            Decision::Untouched { rule } => Some(rule),
            Decision::Reply { rule, .. }
            | Decision::Forward { rule, .. }
            | Decision::Actual { rule, .. } => rule,
        }
    }

    /// The policy that decided; `None` where CORS is off.
    pub fn policy(&self) -> Option<&'a Policy> {
        match *self {
            Decision::Untouched { .. } => None,
            Decision::Reply { policy, .. }
            | Decision::Forward { policy, .. }
            | Decision::Actual { policy, .. } => Some(policy),
        }
    }

    /// The headers of a local reply.
    pub fn reply_headers(&self) -> Option<HeaderPlan<'a>> {
        match *self {
            Decision::Reply {
                status: 204,
                policy,
                origin,
                private_network,
                method,
                headers,
                ..
            } => Some(response::preflight_allowed(
                policy,
                origin,
                private_network,
                method,
                headers,
            )),
            Decision::Reply { policy, .. } => Some(response::preflight_rejected(policy)),
            _ => None,
        }
    }

    /// What an actual request's response gets.
    pub fn actual_plan(&self) -> Option<ActualPlan<'a>> {
        match *self {
            Decision::Actual {
                policy,
                allowed_origin,
                ..
            } => Some(response::actual(policy, allowed_origin)),
            _ => None,
        }
    }
}

pub fn decide<'a>(config: &'a Config, request: &impl RequestHeaders<'a>) -> Decision<'a> {
    let selection = if config.has_rules() {
        let authority = request.get(Header::Authority).unwrap_or_default();
        let path = request.get(Header::Path).unwrap_or_default();
        config.select(authority, path)
    } else {
        config.select(b"", b"")
    };
    let rule = selection.rule;
    let Some(policy) = selection.policy else {
        return Decision::Untouched {
            rule: rule.unwrap_or_default(),
        };
    };
    let origin = request.get(Header::Origin);
    // A preflight: OPTIONS with Origin and Access-Control-Request-Method. The
    // latter is asked first: actual requests lack it, and in Envoy an absent
    // header costs a lookup where a present one (`:method` always is) costs a
    // copy into the VM.
    let preflight = origin.and_then(|origin| {
        let method = request.get(Header::RequestMethod)?;
        (request.get(Header::Method) == Some(b"OPTIONS")).then_some((origin, method))
    });
    if let Some((origin, method)) = preflight {
        let headers = request.get(Header::RequestHeaders);
        let verdict = policy.check_preflight(origin, method, headers);
        return match verdict {
            Ok(()) => Decision::Reply {
                status: 204,
                outcome: Outcome::PreflightAllowed,
                policy,
                rule,
                origin,
                private_network: policy.private_network
                    && request.get(Header::PrivateNetwork) == Some(b"true"),
                method,
                headers,
            },
            Err(reason) => {
                let outcome = Outcome::PreflightRejected(reason);
                match policy.unmatched {
                    Unmatched::Reject => Decision::Reply {
                        status: 403,
                        outcome,
                        policy,
                        rule,
                        origin,
                        private_network: false,
                        method,
                        headers,
                    },
                    Unmatched::Forward => Decision::Forward {
                        outcome,
                        policy,
                        rule,
                    },
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
        outcome,
        policy,
        rule,
        allowed_origin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Reason;
    use crate::request::RequestHead;
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

        let d = decide(&config, &head("OPTIONS", app, Some("PUT")));
        assert!(
            matches!(
                d,
                Decision::Reply {
                    status: 204,
                    outcome: Outcome::PreflightAllowed,
                    rule: None,
                    ..
                }
            ),
            "{d:?}"
        );
        assert_eq!(
            acao(&d.reply_headers().unwrap()),
            Some(&b"https://app.example.com"[..])
        );

        let d = decide(&config, &head("OPTIONS", evil, Some("PUT")));
        assert!(
            matches!(
                d,
                Decision::Reply {
                    status: 403,
                    outcome: Outcome::PreflightRejected(Reason::Origin),
                    ..
                }
            ),
            "{d:?}"
        );
        assert_eq!(acao(&d.reply_headers().unwrap()), None);
        assert!(d.actual_plan().is_none());

        // Lowercase `options` is another method (methods are case-sensitive).
        let d = decide(&config, &head("options", app, Some("PUT")));
        assert!(
            matches!(
                d,
                Decision::Actual {
                    outcome: Outcome::ActualAllowed,
                    rule: None,
                    ..
                }
            ),
            "{d:?}"
        );
        assert_eq!(
            d.actual_plan().unwrap().allow_origin,
            Some(&b"https://app.example.com"[..])
        );
        assert!(d.reply_headers().is_none());

        let d = decide(&config, &head("GET", evil, None));
        assert!(
            matches!(
                d,
                Decision::Actual {
                    outcome: Outcome::ActualDisallowed,
                    allowed_origin: None,
                    ..
                }
            ),
            "{d:?}"
        );
        assert_eq!(
            d.actual_plan().unwrap().managed().map(|(_, value)| value),
            [None; 7]
        );

        let d = decide(&config, &head("GET", None, None));
        assert_eq!(d.outcome(), Some(Outcome::NoOrigin));

        let off = RequestHead {
            authority: b"off.example.com:8080",
            ..head("OPTIONS", evil, Some("PUT"))
        };
        let d = decide(&config, &off);
        assert!(matches!(d, Decision::Untouched { rule: 0 }), "{d:?}");
        assert_eq!(d.outcome(), None);

        let forward = RequestHead {
            path: b"/fwd/x",
            ..head("OPTIONS", app, Some("PATCH"))
        };
        let d = decide(&config, &forward);
        assert!(
            matches!(
                d,
                Decision::Forward {
                    outcome: Outcome::PreflightRejected(Reason::Method),
                    ..
                }
            ),
            "{d:?}"
        );
        let d = decide(
            &config,
            &RequestHead {
                path: b"/fwd/x",
                ..head("GET", app, None)
            },
        );
        assert!(matches!(d, Decision::Actual { rule: Some(1), .. }), "{d:?}");
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
            (&plain, head("GET", app, None), &[Origin, RequestMethod]),
            (&plain, head("OPTIONS", app, None), &[Origin, RequestMethod]),
            (
                &plain,
                head("OPTIONS", app, Some("PUT")),
                &[Origin, RequestMethod, Method, RequestHeaders],
            ),
            (
                &pna,
                head("OPTIONS", app, Some("GET")),
                &[
                    Origin,
                    RequestMethod,
                    Method,
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
