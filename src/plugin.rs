//! Everything a host glue needs, compiled once at configure time: the
//! validated configuration, each policy's local replies serialized for the
//! Wasm host, the counters' names, and the debug lines. The Wasm filter and
//! the dynamic module are then only: read headers, `decide`, write or send
//! what the core built, count.

use crate::config::Config;
use crate::decision::{decide, Decision};
use crate::error::ConfigErrors;
use crate::origin::MAX_ORIGIN_LEN;
use crate::policy::{Outcome, Policy, Reason};
use crate::report::COMPARISON_METRICS;
use crate::request::{Header, RequestHeaders};
use crate::response::LocalReplies;
use crate::shown::shown;

/// A configuration ready to serve requests; immutable after `parse`, so
/// every worker thread (the dynamic module) or VM (Wasm) may share it.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub config: Config,
    /// The distinct local replies: policies that differ only in their
    /// origins (one per tenant, say) answer with the same bytes, kept once.
    replies: Vec<LocalReplies>,
    /// Each policy's replies in `replies`, indexed by `slot` (`None` where a
    /// rule turns CORS off).
    reply_of: Vec<Option<usize>>,
    /// The longest allowed-preflight reply any origin can make, in bytes.
    longest_reply: usize,
}

impl Plugin {
    pub fn parse(bytes: &[u8]) -> Result<Plugin, ConfigErrors> {
        Config::parse(bytes).map(Plugin::new)
    }

    pub fn new(config: Config) -> Plugin {
        let mut replies: Vec<LocalReplies> = Vec::new();
        // `replies`' positions in the order of their bytes, to find a twin.
        let mut sorted: Vec<usize> = Vec::new();
        let reply_of = (0..=config.rules.len())
            .map(|slot| {
                let built = LocalReplies::new(config.policy_at(slot.checked_sub(1))?);
                let found = sorted.binary_search_by(|&i| replies[i].cmp_bytes(&built));
                Some(match found {
                    Ok(at) if built.is_shareable() => sorted[at],
                    Ok(at) | Err(at) => {
                        sorted.insert(at, replies.len());
                        replies.push(built);
                        replies.len() - 1
                    }
                })
            })
            .collect();
        let longest_reply = replies
            .iter()
            .map(|r| r.allowed_len(MAX_ORIGIN_LEN))
            .max()
            .unwrap_or(0);
        Plugin {
            config,
            replies,
            reply_of,
            longest_reply,
        }
    }

    pub fn decide<'a>(&'a self, request: &impl RequestHeaders<'a>) -> Decision<'a> {
        decide(&self.config, request)
    }

    /// The prebuilt local replies of the policy `decide` chose (`rule`: its
    /// index in `rules`, `None` for the top level).
    pub fn replies(&self, rule: Option<usize>) -> Option<&LocalReplies> {
        let at = (*self.reply_of.get(rule.map_or(0, |i| i + 1))?)?;
        self.replies.get(at)
    }

    /// Capacity that makes `LocalReplies::allowed` never allocate, for any
    /// policy and any origin the core accepts.
    pub fn longest_reply(&self) -> usize {
        self.longest_reply
    }

    /// One log record per configuration, when it is accepted (its warnings,
    /// if any, follow: `warning_records`).
    pub fn accepted_line(&self) -> String {
        let warnings = match self.config.warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".to_string(),
            n => format!(", {n} warnings"),
        };
        format!(
            "proxy-wasm-cors {}: configuration accepted ({} rules{warnings})",
            crate::VERSION,
            self.config.rules.len()
        )
    }

    /// The warnings' log records, one each (see `error::warning_records`).
    pub fn warning_records(&self) -> impl Iterator<Item = String> + '_ {
        crate::error::warning_records(&self.config.warnings)
    }
}

/// One of the counters every form defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// A decision of a policy that enforces (`cors.*`).
    Decided(Outcome),
    /// A decision of a policy in report mode (`cors.report.*`).
    Reported(Outcome),
    /// A report-mode comparison, by its index in `COMPARISON_METRICS`.
    Compared(usize),
}

/// How many counters every form defines.
pub const COUNTERS: usize = 2 * Outcome::ALL.len() + COMPARISON_METRICS.len();

impl Counter {
    /// Position in `counter_names()`.
    pub fn index(self) -> usize {
        match self {
            Counter::Decided(outcome) => outcome.index(),
            Counter::Reported(outcome) => Outcome::ALL.len() + outcome.index(),
            Counter::Compared(i) => 2 * Outcome::ALL.len() + i,
        }
    }

    /// What a decision counts: `cors.*`, or `cors.report.*` where its policy
    /// only reports; nothing where CORS is off.
    pub fn of(decision: &Decision) -> Option<Counter> {
        let outcome = decision.outcome()?;
        Some(match decision.policy() {
            Some(policy) if policy.reports() => Counter::Reported(outcome),
            _ => Counter::Decided(outcome),
        })
    }
}

/// The counters every form defines, by `Counter::index`: Envoy shows them in
/// `/stats` under these names (`/stats/prometheus` with `_` for `.`).
pub fn counter_names() -> [&'static str; COUNTERS] {
    let mut names = [""; COUNTERS];
    let mut name = |counter: Counter, metric| {
        if let Some(slot) = names.get_mut(counter.index()) {
            *slot = metric;
        }
    };
    for outcome in Outcome::ALL {
        name(Counter::Decided(outcome), outcome.metric());
        name(Counter::Reported(outcome), outcome.report_metric());
    }
    for (i, metric) in COMPARISON_METRICS.iter().enumerate() {
        name(Counter::Compared(i), metric);
    }
    names
}

/// The debug line a decision logs, if any: why a preflight was rejected, or
/// that an actual request came from an origin not allowed. Offending values
/// are cut short (`shown`). Both forms log exactly these lines.
pub fn debug_line<'a>(
    decision: &Decision<'a>,
    headers: &impl RequestHeaders<'a>,
) -> Option<String> {
    let rejection = |policy, reason| rejection(policy, reason, headers);
    match *decision {
        Decision::Forward {
            outcome: Outcome::PreflightRejected(reason),
            policy,
            ..
        } => Some(format!("{}, forwarded", rejection(policy, reason))),
        Decision::Reply {
            outcome: Outcome::PreflightRejected(reason),
            policy,
            ..
        } => Some(rejection(policy, reason)),
        Decision::Actual {
            outcome: Outcome::ActualDisallowed,
            ..
        } => Some(format!(
            "actual request from an origin not allowed: {}",
            shown(headers.get(Header::Origin).unwrap_or_default())
        )),
        _ => None,
    }
}

/// Why a preflight was rejected, with the offending value cut short.
fn rejection<'a>(policy: &Policy, reason: Reason, headers: &impl RequestHeaders<'a>) -> String {
    let value = match reason {
        Reason::Origin => headers.get(Header::Origin),
        Reason::Method => headers.get(Header::RequestMethod),
        Reason::Headers => headers
            .get(Header::RequestHeaders)
            .and_then(|list| policy.rejected_header(list)),
    };
    format!(
        "preflight rejected: {reason}: {}",
        shown(value.unwrap_or_default())
    )
}

/// The debug line of a decision under a policy in report mode: what the
/// plugin would have done, since it does nothing (`None` for a request
/// without `Origin`, or where CORS is off).
pub fn report_line<'a>(
    decision: &Decision<'a>,
    headers: &impl RequestHeaders<'a>,
) -> Option<String> {
    let origin = || shown(headers.get(Header::Origin).unwrap_or_default());
    let would = match *decision {
        Decision::Reply {
            status: 204,
            origin,
            ..
        } => format!("answer the preflight from {} with 204", shown(origin)),
        Decision::Reply {
            outcome: Outcome::PreflightRejected(reason),
            policy,
            ..
        } => format!("answer 403: {}", rejection(policy, reason, headers)),
        Decision::Forward {
            outcome: Outcome::PreflightRejected(reason),
            policy,
            ..
        } => format!("forward: {}", rejection(policy, reason, headers)),
        Decision::Actual {
            outcome: Outcome::ActualAllowed,
            ..
        } => format!("allow the actual request from {}", origin()),
        Decision::Actual {
            outcome: Outcome::ActualDisallowed,
            ..
        } => format!("not allow the actual request from {}", origin()),
        _ => return None,
    };
    Some(format!("report: would {would}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestHead;

    #[test]
    fn policies_answering_alike_share_their_replies() {
        let plugin = Plugin::parse(
            br#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"],
                 "rules": [
                   {"hosts": ["a.example"], "allow_origins": ["https://a.example"]},
                   {"hosts": ["b.example"], "allow_origins": ["https://b.example"]},
                   {"hosts": ["c.example"], "allow_methods": ["PATCH"]},
                   {"hosts": ["d.example"], "allow_methods": ["*"], "allow_credentials": true},
                   {"hosts": ["e.example"], "allow_methods": ["*"], "allow_credentials": true}
                 ]}"#,
        )
        .unwrap();
        let at = |rule| plugin.replies(rule).unwrap() as *const LocalReplies;
        // The top level and the two tenants differ only in origins.
        assert_eq!(at(None), at(Some(0)));
        assert_eq!(at(Some(0)), at(Some(1)));
        assert_ne!(at(Some(1)), at(Some(2)));
        // Replies that echo the request are their policy's own, even when alike.
        assert_ne!(at(Some(3)), at(Some(4)));
        assert_eq!(plugin.replies.len(), 4);
    }

    #[test]
    fn replies_by_rule_and_debug_lines() {
        let plugin = Plugin::parse(
            br#"{"allow_origins": ["https://app.example.com"],
                 "rules": [{"path_prefix": "/off/", "enabled": false}, {"path_prefix": "/fwd/", "unmatched_preflights": "forward"}]}"#,
        )
        .unwrap();
        assert!(plugin.replies(None).is_some());
        assert!(plugin.replies(Some(0)).is_none());
        assert!(plugin.replies(Some(1)).is_some());
        assert!(plugin.replies(Some(2)).is_none());
        assert!(plugin.longest_reply() > MAX_ORIGIN_LEN);
        assert_eq!(
            plugin.accepted_line(),
            format!(
                "proxy-wasm-cors {}: configuration accepted (2 rules)",
                env!("CARGO_PKG_VERSION")
            )
        );

        let head =
            |path: &'static [u8], origin: &'static [u8], acrm: Option<&'static [u8]>| RequestHead {
                method: if acrm.is_some() { b"OPTIONS" } else { b"GET" },
                authority: b"a",
                path,
                origin: Some(origin),
                request_method: acrm,
                ..RequestHead::default()
            };
        let cases: [(RequestHead<'_>, Option<&str>); 5] = [
            (
                head(b"/", b"https://evil.example", Some(b"GET")),
                Some("preflight rejected: origin not allowed: \"https://evil.example\""),
            ),
            (
                head(b"/fwd/", b"https://app.example.com", Some(b"PUT")),
                Some("preflight rejected: method not allowed: \"PUT\", forwarded"),
            ),
            (
                head(b"/", b"https://evil.example", None),
                Some("actual request from an origin not allowed: \"https://evil.example\""),
            ),
            (head(b"/", b"https://app.example.com", Some(b"GET")), None),
            (head(b"/off/", b"https://evil.example", Some(b"GET")), None),
        ];
        for (head, want) in cases {
            let decision = plugin.decide(&head);
            assert_eq!(debug_line(&decision, &head).as_deref(), want, "{head:?}");
        }
        assert_eq!(counter_names()[0], "cors.preflight_allowed");
        let names = counter_names();
        assert_eq!(
            names[Counter::Reported(Outcome::NoOrigin).index()],
            "cors.report.no_origin"
        );
        assert_eq!(
            names[Counter::Compared(6).index()],
            "cors.report.differs_credentials"
        );
        assert!(names.iter().all(|n| n.starts_with("cors.")));
    }
}
