//! What the plugin does with one request, in words: which policy applies, the
//! decision, why, and the exact headers it sends. Built from the same core and
//! the same `response` plans as the Wasm filter, so it says what Envoy does.
//! Native only: `cors-check explain` prints it.

use crate::access_log;
use crate::config::Config;
use crate::decision::{decide, Decision};
use crate::policy::{Outcome, Policy, Reason};
use crate::report::COMPARISON_METRICS;
use crate::request::RequestHead;
use crate::response::{self, ActualPlan, HeaderPlan, VARY};
use crate::rule::{HostPattern, Rule};
use crate::shown::shown;
use std::fmt;

/// One request, as a browser would send it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `Origin`; `None` for a request without one.
    pub origin: Option<String>,
    /// The method the page asks for: the request's own method, or, for a
    /// preflight, its `Access-Control-Request-Method`.
    pub method: String,
    /// Header names the page sets; a preflight lists them in
    /// `Access-Control-Request-Headers`.
    pub headers: Vec<String>,
    /// `:authority`, as rules see it.
    pub host: String,
    /// `:path`, as rules see it.
    pub path: String,
    /// The `OPTIONS` preflight for this request rather than the request itself.
    pub preflight: bool,
    /// The preflight has `Access-Control-Request-Private-Network: true`.
    pub private_network: bool,
}

/// What happens to the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// CORS is off where the request goes (a rule with `"enabled": false`).
    Untouched,
    /// A rejected preflight passed to the upstream (`"unmatched_preflights": "forward"`).
    Forwarded,
    /// Answered by the plugin itself; the upstream never sees the request.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
    },
    /// The upstream's response, with these changes.
    Upstream {
        /// Set, replacing any the upstream sent.
        set: Vec<(&'static str, String)>,
        /// Removed if the upstream sent them.
        removed: Vec<&'static str>,
        /// `origin` appended to `vary`, unless the upstream's `vary` names it or `*`.
        vary_origin: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub request: String,
    /// `top level`, or the rule that matched.
    pub policy: String,
    /// The counter incremented; `None` where CORS is off.
    pub outcome: Option<Outcome>,
    pub decision: String,
    pub action: Action,
    /// What to change in the configuration to allow a rejected request.
    pub hint: Option<String>,
    /// The policy is in report mode: `action` is what it would do.
    pub report: bool,
    /// The request has `Origin`: in report mode its response is compared.
    pub compared: bool,
    /// The entry the filter records for Envoy's access log (`access_log`).
    pub logged: String,
}

/// Explains `request` under `config`. `Err` for a request that cannot be a
/// preflight (one without `Origin`).
pub fn explain(config: &Config, request: &Request) -> Result<Explanation, String> {
    if request.preflight && request.origin.is_none() {
        return Err(
            "a preflight always carries Origin: give --origin, or drop --preflight".to_string(),
        );
    }
    // The headers Envoy would hand the filter for this request.
    let requested_headers = request.headers.join(",");
    let head = RequestHead {
        method: if request.preflight {
            b"OPTIONS"
        } else {
            request.method.as_bytes()
        },
        authority: request.host.as_bytes(),
        path: request.path.as_bytes(),
        origin: request.origin.as_deref().map(str::as_bytes),
        request_method: request.preflight.then_some(request.method.as_bytes()),
        request_headers: (request.preflight && !request.headers.is_empty())
            .then_some(requested_headers.as_bytes()),
        private_network: (request.preflight && request.private_network).then_some(b"true"),
    };
    let decision = decide(config, &head);
    let logged = access_log::entry(&decision, &head).as_str().to_string();
    let decision_rule = decision.rule();
    let policy_name = match decision_rule {
        None => "top level".to_string(),
        Some(i) => describe_rule(i, &config.rules[i]),
    };
    let reply_headers = decision.reply_headers().map(|plan| owned(&plan));
    let (words, action, hint) = match decision {
        Decision::Untouched { .. } => {
            return Ok(Explanation {
                request: describe_request(request),
                policy: format!("{policy_name}, \"enabled\": false"),
                outcome: None,
                decision: "CORS is off here: the request and its response pass untouched"
                    .to_string(),
                action: Action::Untouched,
                hint: None,
                report: false,
                compared: false,
                logged,
            })
        }
        Decision::Reply { status: 204, .. } => (
            "allowed: answered here, never reaching the upstream".to_string(),
            Action::Reply {
                status: 204,
                headers: reply_headers.unwrap_or_default(),
            },
            None,
        ),
        Decision::Reply {
            status,
            policy,
            outcome,
            ..
        } => rejected(
            policy,
            &head,
            outcome,
            "answered here with 403 and no CORS headers, so the browser blocks the request",
            Action::Reply {
                status: status as u16,
                headers: reply_headers.unwrap_or_default(),
            },
        ),
        Decision::Forward {
            policy, outcome, ..
        } => rejected(
            policy,
            &head,
            outcome,
            "passed to the upstream (\"unmatched_preflights\": \"forward\"), whose answer is left untouched",
            Action::Forwarded,
        ),
        Decision::Actual {
            policy,
            outcome,
            allowed_origin,
            ..
        } => actual(
            policy,
            outcome,
            head.origin,
            &response::actual(policy, allowed_origin),
        ),
    };
    let hint = hint.map(|(value, field)| match decision_rule {
        None => format!("to allow it, add {value} to {field}"),
        Some(i) => format!(
            "to allow it, add {value} to the {field} that applies here: rules[{i}]'s own, else the top level's"
        ),
    });
    Ok(Explanation {
        request: describe_request(request),
        policy: policy_name,
        outcome: decision.outcome(),
        decision: words,
        action,
        hint,
        report: decision.policy().is_some_and(Policy::reports),
        compared: head.origin.is_some(),
        logged,
    })
}

/// The decision in words, the response, and for a rejection the value and
/// the field that would allow it.
type Parts = (String, Action, Option<(String, &'static str)>);

fn rejected(
    policy: &Policy,
    head: &RequestHead<'_>,
    outcome: Outcome,
    how: &str,
    action: Action,
) -> Parts {
    let Outcome::PreflightRejected(reason) = outcome else {
        return (format!("rejected; {how}"), action, None);
    };
    let (value, field) = match reason {
        Reason::Origin => (head.origin.unwrap_or_default(), "allow_origins"),
        Reason::Method => (head.request_method.unwrap_or_default(), "allow_methods"),
        Reason::Headers => (
            head.request_headers
                .and_then(|list| policy.rejected_header(list))
                .unwrap_or_default(),
            "allow_headers",
        ),
    };
    let value = shown(value);
    (
        format!("rejected, {reason}: {value}; {how}"),
        action,
        Some((value, field)),
    )
}

fn actual(
    policy: &Policy,
    outcome: Outcome,
    origin: Option<&[u8]>,
    plan: &ActualPlan<'_>,
) -> Parts {
    let origin = shown(origin.unwrap_or_default());
    let (decision, hint) = match outcome {
        Outcome::ActualAllowed => ("allowed: the page may read the response".to_string(), None),
        Outcome::ActualDisallowed => (
            format!(
                "origin not allowed: {origin}; the response carries no CORS headers, so the browser hides it from the page"
            ),
            Some((origin, "allow_origins")),
        ),
        _ if policy.allows_any_origin() => (
            "no Origin (same-origin, or not from a browser); \"*\" answers every request the same".to_string(),
            None,
        ),
        _ => ("no Origin (same-origin, or not from a browser)".to_string(), None),
    };
    let mut set = Vec::new();
    let mut removed = Vec::new();
    for (name, value) in plan.managed() {
        match value {
            Some(v) => set.push((name, String::from_utf8_lossy(v).into_owned())),
            None => removed.push(name),
        }
    }
    (
        decision,
        Action::Upstream {
            set,
            removed,
            vary_origin: plan.vary_origin,
        },
        hint,
    )
}

fn owned(plan: &HeaderPlan<'_>) -> Vec<(&'static str, String)> {
    plan.iter()
        .flatten()
        .map(|(name, value)| (*name, String::from_utf8_lossy(value).into_owned()))
        .collect()
}

fn describe_rule(index: usize, rule: &Rule) -> String {
    let mut parts = Vec::new();
    if !rule.hosts.is_empty() {
        let hosts: Vec<String> = rule
            .hosts
            .iter()
            .map(|h| match h {
                HostPattern::Any => "*".to_string(),
                HostPattern::Exact(name) => name.clone(),
                HostPattern::Subdomains(suffix) => format!("*{suffix}"),
            })
            .collect();
        parts.push(format!("hosts {}", hosts.join(", ")));
    }
    if let Some(prefix) = &rule.path_prefix {
        parts.push(format!("path_prefix {prefix}"));
    }
    format!("rules[{index}] ({})", parts.join("; "))
}

fn describe_request(request: &Request) -> String {
    let target = format!("{} on {}", request.path, request.host);
    match (&request.origin, request.preflight) {
        (Some(origin), true) => {
            let mut line = format!(
                "OPTIONS {target}, the preflight from {origin} for {}",
                request.method
            );
            if !request.headers.is_empty() {
                line.push_str(&format!(" with {}", request.headers.join(", ")));
            }
            if request.private_network {
                line.push_str(", to a private network");
            }
            line
        }
        (Some(origin), false) => format!("{} {target} from {origin}", request.method),
        (None, _) => format!("{} {target} without Origin", request.method),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "request:  {}", self.request)?;
        writeln!(f, "policy:   {}", self.policy)?;
        if self.report {
            writeln!(
                f,
                "mode:     report: the plugin changes nothing; request and response pass as without it"
            )?;
            writeln!(f, "decision: would be {}", self.decision)?;
        } else {
            writeln!(f, "decision: {}", self.decision)?;
        }
        match self.outcome {
            Some(outcome) if self.report => {
                writeln!(f, "counted:  {}", outcome.report_metric())?;
                if self.compared {
                    writeln!(
                        f,
                        "          and, compared with the response of the CORS layer in place: {}, or {} or {} with one of {}",
                        COMPARISON_METRICS[0],
                        COMPARISON_METRICS[1],
                        COMPARISON_METRICS[2],
                        COMPARISON_METRICS[3..].join(", ")
                    )?;
                }
            }
            Some(outcome) => writeln!(f, "counted:  {}", outcome.metric())?,
            None => writeln!(f, "counted:  nothing")?,
        }
        writeln!(f, "logged:   {}", self.logged)?;
        let response = if self.report {
            "response: in enforce mode,"
        } else {
            "response:"
        };
        match &self.action {
            Action::Untouched | Action::Forwarded => {
                writeln!(f, "{response} the upstream's, untouched")?;
            }
            Action::Reply { status, headers } => {
                writeln!(f, "{response} {status}, from the plugin")?;
                for (name, value) in headers {
                    writeln!(f, "  {name}: {value}")?;
                }
            }
            Action::Upstream {
                set,
                removed,
                vary_origin,
            } => {
                writeln!(f, "{response} the upstream's, with")?;
                for (name, value) in set {
                    writeln!(f, "  {name}: {value}")?;
                }
                if *vary_origin {
                    writeln!(
                        f,
                        "  {VARY}: origin (appended unless the upstream's vary names origin or *)"
                    )?;
                }
                if !removed.is_empty() {
                    writeln!(f, "  and without {}", removed.join(", "))?;
                }
            }
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "hint:     {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Config {
        Config::parse(json.as_bytes()).unwrap()
    }

    fn request(origin: Option<&str>, method: &str, preflight: bool) -> Request {
        Request {
            origin: origin.map(str::to_string),
            method: method.to_string(),
            host: "localhost".to_string(),
            path: "/".to_string(),
            preflight,
            ..Request::default()
        }
    }

    #[test]
    fn report_mode_says_what_it_would_do_and_count() {
        let c = config(
            r#"{"allow_origins": ["https://a.example"], "rules": [{"path_prefix": "/r/", "mode": "report"}]}"#,
        );
        let mut r = request(Some("https://evil.example"), "PUT", true);
        r.path = "/r/x".to_string();
        assert_eq!(
            explain(&c, &r).unwrap().to_string(),
            "request:  OPTIONS /r/x on localhost, the preflight from https://evil.example for PUT\n\
             policy:   rules[0] (path_prefix /r/)\n\
             mode:     report: the plugin changes nothing; request and response pass as without it\n\
             decision: would be rejected, origin not allowed: \"https://evil.example\"; answered here with 403 and no CORS headers, so the browser blocks the request\n\
             counted:  cors.report.preflight_rejected_origin\n\
             \x20         and, compared with the response of the CORS layer in place: cors.report.agreed, or \
             cors.report.only_other_allowed or cors.report.only_plugin_allowed with one of cors.report.differs_origin, \
             cors.report.differs_method, cors.report.differs_headers, cors.report.differs_credentials\n\
             logged:   report.preflight_rejected origin_not_allowed rules[0]\n\
             response: in enforce mode, 403, from the plugin\n\
             \x20 vary: origin, access-control-request-method, access-control-request-headers\n\
             hint:     to allow it, add \"https://evil.example\" to the allow_origins that applies here: rules[0]'s own, else the top level's\n"
        );
        // Outside the rule, the top level enforces.
        r.path = "/x".to_string();
        let e = explain(&c, &r).unwrap();
        assert!(!e.report);
        assert!(e
            .to_string()
            .contains("counted:  cors.preflight_rejected_origin\n"));
    }

    #[test]
    fn preflight_allowed_lists_the_exact_headers() {
        let c = config(
            r#"{"allow_origins": ["https://a.example"], "allow_methods": ["PUT"],
                "allow_headers": ["x-a"], "max_age": 60, "allow_credentials": true}"#,
        );
        let mut r = request(Some("https://a.example"), "PUT", true);
        r.headers = vec!["x-a".to_string()];
        let e = explain(&c, &r).unwrap();
        assert_eq!(e.outcome, Some(Outcome::PreflightAllowed));
        assert_eq!(
            e.action,
            Action::Reply {
                status: 204,
                headers: vec![
                    (
                        "access-control-allow-origin",
                        "https://a.example".to_string()
                    ),
                    ("access-control-allow-methods", "PUT".to_string()),
                    ("access-control-allow-headers", "x-a".to_string()),
                    ("access-control-max-age", "60".to_string()),
                    ("access-control-allow-credentials", "true".to_string()),
                    (
                        "vary",
                        "origin, access-control-request-method, access-control-request-headers"
                            .to_string()
                    ),
                ]
            }
        );
    }

    #[test]
    fn rejected_preflights_say_why_and_what_to_change() {
        let c = config(r#"{"allow_origins": ["https://a.example"], "allow_headers": ["x-a"]}"#);
        let mut r = request(Some("https://a.example"), "GET", true);
        r.headers = vec!["x-a".to_string(), "x-b".to_string()];
        let e = explain(&c, &r).unwrap();
        assert_eq!(e.outcome, Some(Outcome::PreflightRejected(Reason::Headers)));
        assert_eq!(
            e.hint.as_deref(),
            Some("to allow it, add \"x-b\" to allow_headers")
        );
        let long = format!("https://{}.example", "a".repeat(10_000));
        let e = explain(&c, &request(Some(&long), "GET", true)).unwrap();
        assert_eq!(e.outcome, Some(Outcome::PreflightRejected(Reason::Origin)));
        assert!(e.decision.len() < 300, "{}", e.decision);
        assert!(e.decision.contains('…'));
    }

    #[test]
    fn a_preflight_needs_an_origin() {
        let c = config(r#"{"allow_origins": ["*"]}"#);
        assert!(explain(&c, &request(None, "PUT", true)).is_err());
    }

    #[test]
    fn disabled_rules_and_forwarding() {
        let c = config(
            r#"{"allow_origins": ["https://a.example"], "unmatched_preflights": "forward",
                "rules": [{"path_prefix": "/hooks/", "enabled": false}]}"#,
        );
        let mut r = request(Some("https://b.example"), "GET", true);
        let e = explain(&c, &r).unwrap();
        assert_eq!(e.action, Action::Forwarded);
        r.path = "/hooks/x".to_string();
        let e = explain(&c, &r).unwrap();
        assert_eq!(e.action, Action::Untouched);
        assert_eq!(e.outcome, None);
        assert_eq!(
            e.policy,
            "rules[0] (path_prefix /hooks/), \"enabled\": false"
        );
    }
}
